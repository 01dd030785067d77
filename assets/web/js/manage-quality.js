// The manager console's 差评跟进, beside manage/main.js (which shows the views and fires "manage:view"):
// the hall's 差评 cases (open / overdue / closed; overdue in red with the days past the deadline), a
// case's evaluation and step timeline, and the form for the next step (核实 → 整改 → 回访 → 办结); who
// rated is never known here, only whose service it was. The reports are in manage-reports.js.
import { api as makeApi } from "./api.js";
import { esc } from "./live.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const DAY_MS = 86400000;

const STEP_LABEL = { verify: "核实", rectify: "整改", callback: "回访", close: "办结" };
const STEP_HINT = {
  verify: "如：已调取窗口录像，核实等候时间确为 65 分钟",
  rectify: "如：已增开 3 号窗口兼办该事项，并对经办人进行提醒谈话",
  callback: "如：已通过 12345 回访评价渠道反馈整改情况",
  close: "如：整改完成，案件办结",
};
const LEVEL_CLASS = { 1: "tag-red", 2: "tag-amber" };

const state = { view: null, filter: "open", cases: [], selected: null };

// ------------------------------------------------------------------ helpers
const pad = (n) => String(n).padStart(2, "0");
const localDay = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const fmtTime = (iso) => {
  const d = new Date(iso);
  return `${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const fmtDay = (day) => { const [, m, d] = day.split("-"); return `${Number(m)}月${Number(d)}日`; };
/** Calendar days from the due day to today (hall-local: the console runs where the hall is). */
const daysLate = (dueOn) => Math.round((Date.parse(localDay()) - Date.parse(dueOn)) / DAY_MS);

function toast(message, kind = "info") {
  const box = $("toasts");
  const el = document.createElement("div");
  el.className = `toast ${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = message;
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 6000 : 3500);
}

// ================================================================== 差评跟进
function progress(c) {
  if (c.state === "closed") {
    return `<span class="tag ${c.closed_late ? "tag-amber" : "tag-green"}">已办结${c.closed_late ? "（超期）" : ""}</span>`;
  }
  return `<span class="tag tag-blue">待${STEP_LABEL[c.next_step] || ""}</span>`;
}

function deadline(c) {
  if (c.overdue) {
    return `<span class="q-due q-overdue">${fmtDay(c.due_on)}<b>超期 ${daysLate(c.due_on)} 天</b></span>`;
  }
  if (c.state === "open") {
    const left = -daysLate(c.due_on);
    return `<span class="q-due">${fmtDay(c.due_on)}<small>${left === 0 ? "今日到期" : `剩 ${left} 天`}</small></span>`;
  }
  return `<span class="q-due">${fmtDay(c.due_on)}</span>`;
}

function renderCases() {
  $("fu-count").textContent = state.cases.length;
  const rows = state.cases.map((c) => {
    const ev = c.evaluation;
    const who = ev.staff ? `${esc(ev.staff.name)}` : "—";
    return `<tr data-id="${c.id}" class="${c.overdue ? "overdue" : ""}" aria-selected="${c.id === state.selected}" tabindex="0">
      <td class="nowrap">${fmtTime(ev.rated_at)}</td>
      <td><span class="tag ${LEVEL_CLASS[ev.level] || ""}">${esc(ev.label)}</span></td>
      <td>${esc(ev.bundle_name)}</td>
      <td class="nowrap">${ev.window ? `${ev.window}号窗口` : "—"} · ${who}</td>
      <td>${ev.reasons.map((r) => esc(r.label)).join("、") || "—"}</td>
      <td class="nowrap">${deadline(c)}</td>
      <td class="nowrap">${progress(c)}</td></tr>`;
  }).join("");
  const none = { open: "暂无未办结的差评", overdue: "没有超期的差评", closed: "暂无已办结的差评" }[state.filter];
  $("fu-rows").innerHTML = rows || `<tr><td colspan="7" class="empty">${none}</td></tr>`;
}

function renderDetail() {
  const c = state.cases.find((x) => x.id === state.selected);
  const form = $("fu-form");
  if (!c) {
    $("fu-detail-no").textContent = "";
    $("fu-detail-body").innerHTML = `<div class="empty">请在左侧选择一条差评</div>`;
    form.hidden = true;
    return;
  }
  const ev = c.evaluation;
  $("fu-detail-no").textContent = `案件 #${c.id}`;
  const steps = c.steps.map((s) => `<li class="done" data-step="${esc(s.step)}">
      <b>${esc(s.label)}</b><time>${fmtTime(s.at)}</time><span class="actor">${esc(s.actor.replace(/^staff:/, ""))}</span>
      <p>${esc(s.note)}</p></li>`).join("");
  const next = c.next_step ? `<li class="todo"><b>待${STEP_LABEL[c.next_step]}</b>
      <span class="${c.overdue ? "q-overdue" : ""}">期限 ${fmtDay(c.due_on)}${c.overdue ? `，已超期 ${daysLate(c.due_on)} 天` : ""}</span></li>` : "";
  $("fu-detail-body").innerHTML = `
    <dl class="q-facts">
      <dt>评价</dt><dd><span class="tag ${LEVEL_CLASS[ev.level] || ""}">${esc(ev.label)}</span> <span class="dim">${fmtTime(ev.rated_at)} · ${{ pad: "窗口评价器", kiosk: "自助终端", phone: "手机" }[ev.channel] || esc(ev.channel)}</span></dd>
      <dt>一件事</dt><dd>${esc(ev.bundle_name)}</dd>
      <dt>窗口</dt><dd>${ev.window ? `${ev.window}号窗口` : "—"}${ev.staff ? ` · 经办人 ${esc(ev.staff.name)}（${esc(ev.staff.username)}）` : ""}</dd>
      <dt>原因</dt><dd>${ev.reasons.map((r) => `<span class="tag tag-red">${esc(r.label)}</span>`).join(" ") || "—"}</dd>
      ${ev.comment ? `<dt>说明</dt><dd class="q-comment">${esc(ev.comment)}</dd>` : ""}
      <dt>立案</dt><dd>${fmtTime(c.opened_at)}，期限 ${fmtDay(c.due_on)}${c.closed_at ? `，${fmtTime(c.closed_at)} 办结` : ""}</dd>
    </dl>
    <h3 class="q-tl-title">处理过程</h3>
    <ol class="q-timeline" id="fu-timeline">${steps}${next}</ol>`;
  form.hidden = !c.next_step;
  if (c.next_step) {
    const label = STEP_LABEL[c.next_step];
    $("fu-step-label").textContent = `记录${label}情况`;
    $("fu-submit").textContent = `记录${label}`;
    $("fu-note").placeholder = STEP_HINT[c.next_step];
  }
}

async function loadCases() {
  try {
    const { followups } = await api.get(`/halls/${encodeURIComponent(HALL)}/followups?state=${state.filter}`);
    state.cases = followups;
    if (!followups.some((c) => c.id === state.selected)) state.selected = followups[0]?.id ?? null;
    renderCases();
    renderDetail();
  } catch (e) {
    $("fu-rows").innerHTML = `<tr><td colspan="7" class="empty">${esc(e.message)}</td></tr>`;
  }
  loadOpenCount();
}

async function loadOpenCount() {
  try {
    const { followups } = await api.get(`/halls/${encodeURIComponent(HALL)}/followups?state=open`);
    const badge = $("nav-followup");
    badge.textContent = followups.length || "";
    badge.classList.toggle("late", followups.some((c) => c.overdue));
  } catch { /* the badge stays as it was */ }
}

async function recordStep(ev) {
  ev.preventDefault();
  const c = state.cases.find((x) => x.id === state.selected);
  const note = $("fu-note").value.trim();
  if (!c?.next_step) return;
  if (!note) { $("fu-error").textContent = "请填写处理说明"; $("fu-note").focus(); return; }
  $("fu-error").textContent = "";
  const btn = $("fu-submit");
  btn.disabled = true;
  try {
    const updated = await api.post(`/followups/${c.id}/steps`, { step: c.next_step, note });
    $("fu-note").value = "";
    toast(`已记录${STEP_LABEL[c.next_step]}`, "ok");
    const i = state.cases.indexOf(c);
    if (updated.state === "closed" && state.filter !== "closed") state.cases.splice(i, 1);
    else state.cases[i] = updated;
    renderCases();
    renderDetail();
    loadOpenCount();
  } catch (e) {
    $("fu-error").textContent = e.message;
    if (e.code === "followup_out_of_order") loadCases();
  } finally {
    btn.disabled = false;
  }
}

function wireFollowups() {
  $("fu-filter").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-state]");
    if (!btn) return;
    state.filter = btn.dataset.state;
    for (const b of $("fu-filter").children) b.setAttribute("aria-pressed", String(b === btn));
    loadCases();
  });
  const pick = (ev) => {
    const row = ev.target.closest("tr[data-id]");
    if (!row) return;
    state.selected = Number(row.dataset.id);
    $("fu-error").textContent = "";
    renderCases();
    renderDetail();
  };
  $("fu-rows").addEventListener("click", pick);
  $("fu-rows").addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(ev); });
  $("fu-refresh").addEventListener("click", loadCases);
  $("fu-form").addEventListener("submit", recordStep);
}

// ================================================================== views
function onView(view) {
  state.view = view;
  if (view === "followup") loadCases();
}

wireFollowups();
document.addEventListener("manage:view", (ev) => onView(ev.detail));
if (document.body.dataset.view === "followup") onView("followup");
loadOpenCount();
