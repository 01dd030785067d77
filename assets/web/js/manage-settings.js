// The manager console's 大厅设置 (beside manage/main.js, which fires "manage:view"):
// - the appointment policy (walk-in share, grace, per-person limit, horizon) and the surge thresholds,
//   hall-wide and per bundle (empty = the hall's), saved in one PUT (audit-logged on the server);
// - the holiday calendar: days closed on a weekday (法定节假日) and weekend days worked (调休上班).
// Bounds come from the server (limits), so the form and the API refuse the same values.
import { api as makeApi } from "./api.js";
import { esc } from "./live.js";
import { toaster } from "./toasts.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const toast = toaster();
const KEYS = ["walk_in_percent", "grace_min", "per_person_limit", "days_ahead", "surge_waiting", "surge_wait_min",
  "closing_guard"];
const WEEKDAY = "一二三四五六日";

const state = { saved: null, days: [] };
const base = () => `/halls/${encodeURIComponent(HALL)}`;

// ------------------------------------------------------------------ the policy form
function fill(settings) {
  state.saved = settings;
  for (const key of KEYS) {
    const input = $(`st-${key}`);
    const { min, max, default: byDefault } = settings.limits[key];
    Object.assign(input, { min, max, value: settings[key] });
    input.title = `${min}–${max}，默认 ${byDefault}`;
  }
  const wl = settings.limits.surge_waiting;
  const ml = settings.limits.surge_wait_min;
  $("st-bundles").tBodies[0].innerHTML = settings.bundles.map((b) => `<tr data-code="${esc(b.code)}">
      <td><span class="q-prefix">${esc(b.prefix)}</span>${esc(b.name)}</td>
      <td class="r"><input class="input input-sm st-num" type="number" data-field="waiting" min="${wl.min}" max="${wl.max}"
        value="${b.waiting ?? ""}" placeholder="${settings.surge_waiting}" aria-label="${esc(b.name)} 等候人数预警值"></td>
      <td class="r"><input class="input input-sm st-num" type="number" data-field="wait_min" min="${ml.min}" max="${ml.max}"
        value="${b.wait_min ?? ""}" placeholder="${settings.surge_wait_min}" aria-label="${esc(b.name)} 最长等候预警值"></td></tr>`).join("");
  $("st-note").textContent = `现场保留 ${settings.walk_in_percent}% · 宽限 ${settings.grace_min} 分钟 · 预警 ${settings.surge_waiting} 人 / ${settings.surge_wait_min} 分钟`
    + (settings.closing_guard ? " · 下班前停止取号" : "");
  $("st-error").textContent = "";
  markDirty();
}

function draft() {
  const body = {};
  for (const key of KEYS) body[key] = $(`st-${key}`).value === "" ? null : Number($(`st-${key}`).value);
  body.bundles = [...$("st-bundles").tBodies[0].rows].map((row) => {
    const value = (field) => {
      const v = row.querySelector(`[data-field="${field}"]`).value;
      return v === "" ? null : Number(v);
    };
    return { code: row.dataset.code, waiting: value("waiting"), wait_min: value("wait_min") };
  }).filter((b) => b.waiting !== null || b.wait_min !== null);
  return body;
}

function changes() {
  if (!state.saved) return 0;
  const d = draft();
  let n = KEYS.filter((k) => d[k] !== state.saved[k]).length;
  const own = new Map(state.saved.bundles.filter((b) => b.waiting !== null || b.wait_min !== null)
    .map((b) => [b.code, `${b.waiting}/${b.wait_min}`]));
  const now = new Map(d.bundles.map((b) => [b.code, `${b.waiting}/${b.wait_min}`]));
  for (const code of new Set([...own.keys(), ...now.keys()])) if (own.get(code) !== now.get(code)) n += 1;
  return n;
}

function markDirty() {
  const n = changes();
  $("st-diff").textContent = n ? `已修改 ${n} 项，尚未保存` : "未修改";
  $("st-save").disabled = !n;
  $("st-reset").disabled = !n;
}

function invalid(body) {
  for (const key of KEYS) {
    const input = $(`st-${key}`);
    const { min, max } = state.saved.limits[key];
    if (body[key] === null || !Number.isInteger(body[key]) || body[key] < min || body[key] > max) {
      input.focus();
      return `“${input.closest(".field").querySelector("label").textContent}”应为 ${min} 到 ${max} 之间的整数`;
    }
  }
  for (const input of $("st-bundles").querySelectorAll("input")) {
    const v = input.value === "" ? null : Number(input.value);
    if (v !== null && (!Number.isInteger(v) || v < Number(input.min) || v > Number(input.max))) {
      input.focus();
      return `${input.getAttribute("aria-label")}应为 ${input.min} 到 ${input.max} 之间的整数`;
    }
  }
  return null;
}

async function save(ev) {
  ev.preventDefault();
  const body = draft();
  const problem = invalid(body);
  if (problem) { $("st-error").textContent = problem; return; }
  $("st-save").disabled = true;
  try {
    fill(await api.put(`${base()}/settings`, body));
    toast("大厅设置已保存，立即生效", "ok");
  } catch (e) {
    $("st-error").textContent = e.message;
    markDirty();
  }
}

async function loadSettings() {
  try {
    fill(await api.get(`${base()}/settings`));
  } catch (e) {
    $("st-error").textContent = e.message;
  }
}

// ------------------------------------------------------------------ the calendar
const pad = (n) => String(n).padStart(2, "0");
const localDay = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function renderDays() {
  $("cal-rows").innerHTML = state.days.map((d) => `<tr data-date="${d.date}" data-kind="${d.kind}">
      <td class="nowrap num">${d.date} <span class="dim">星期${WEEKDAY[d.weekday - 1]}</span></td>
      <td><span class="tag ${d.kind === "closed" ? "tag-red" : "tag-blue"}">${esc(d.label)}</span></td>
      <td>${esc(d.note || "")}</td>
      <td class="r"><button class="btn btn-sm" type="button" data-delete="${d.date}">删除</button></td></tr>`).join("")
    || `<tr><td colspan="4" class="empty">尚未设置节假日或调休</td></tr>`;
}

async function loadDays() {
  const start = new Date();
  start.setDate(start.getDate() - 31);
  try {
    const { days } = await api.get(`${base()}/calendar?start=${localDay(start)}`);
    state.days = days;
    renderDays();
  } catch (e) {
    $("cal-error").textContent = e.message;
  }
}

async function addDay(ev) {
  ev.preventDefault();
  const day = $("cal-date").value;
  $("cal-error").textContent = "";
  if (!day) { $("cal-error").textContent = "请选择日期"; $("cal-date").focus(); return; }
  const weekend = [0, 6].includes(new Date(`${day}T12:00:00`).getDay());
  const kind = $("cal-kind").value;
  if ((kind === "closed") === weekend) {
    $("cal-error").textContent = kind === "closed" ? "周末本来就不办公，无需设为休息" : "工作日本来就办公，无需设为调休上班";
    return;
  }
  try {
    await api.put(`${base()}/calendar/${day}`, { kind, note: $("cal-note").value.trim() || null });
    $("cal-note").value = "";
    toast(`${day} 已设为${kind === "closed" ? "休息" : "调休上班"}`, "ok");
    loadDays();
  } catch (e) {
    $("cal-error").textContent = e.message;
  }
}

async function deleteDay(day) {
  try {
    await api.del(`${base()}/calendar/${day}`);
    toast(`${day} 已恢复为平常安排`, "ok");
    loadDays();
  } catch (e) {
    $("cal-error").textContent = e.message;
  }
}

function wire() {
  $("st-form").addEventListener("submit", save);
  $("st-form").addEventListener("input", markDirty);
  $("st-reset").addEventListener("click", () => { if (state.saved) fill(state.saved); });
  $("cal-form").addEventListener("submit", addDay);
  $("cal-rows").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-delete]");
    if (btn) deleteDay(btn.dataset.delete);
  });
}

function onView(view) {
  if (view !== "settings") return;
  loadSettings();
  loadDays();
}

wire();
document.addEventListener("manage:view", (ev) => onView(ev.detail));
if (document.body.dataset.view === "settings") onView("settings");
