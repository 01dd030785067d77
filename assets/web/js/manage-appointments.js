// The manager console's 预约 view (beside manage/main.js, which fires "manage:view"): the bookings of a
// chosen day with their counts (待签到, 已签到, 迟到, 爽约, 已取消), filtered by status; the nav badge
// shows today's bookings still to check in. Who booked is shown masked only (张*), as stored.
import { api as makeApi } from "./api.js";
import { esc } from "./live.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const REFRESH_MS = 60000;

const STATUS = { booked: ["待签到", "tag-blue"], checked_in: ["已签到", "tag-green"], missed: ["爽约", "tag-red"],
  cancelled: ["已取消", ""] };
const state = { day: null, filter: "", list: [], counts: null };

const pad = (n) => String(n).padStart(2, "0");
const localDay = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const hm = (iso) => { const d = new Date(iso); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; };

function renderCounts(c) {
  const items = [["预约", c.total - c.cancelled, ""], ["待签到", c.booked, "blue"], ["已签到", c.checked_in, "green"],
    ["其中迟到", c.late, "amber"], ["爽约", c.missed, "red"], ["已取消", c.cancelled, ""]];
  $("ap-counts").innerHTML = items.map(([label, n, tone]) =>
    `<span class="ap-count ${tone ? `ap-${tone}` : ""}"><b class="num">${n}</b>${label}</span>`).join("");
}

function render() {
  const rows = state.list.filter((a) => !state.filter || a.status === state.filter);
  $("ap-rows").innerHTML = rows.map((a) => {
    const [label, tag] = STATUS[a.status] || [a.status, ""];
    const checkin = a.status === "checked_in" ? (a.late ? `<span class="tag tag-amber">迟到</span>` : "准时")
      : a.status === "booked" ? `<span class="dim">${hm(a.check_in_from)}–${hm(a.check_in_until)}</span>` : "—";
    return `<tr data-code="${esc(a.code)}" data-status="${esc(a.status)}">
      <td class="nowrap num">${hm(a.slot_start)}–${hm(a.slot_end)}</td><td>${esc(a.bundle_name)}</td>
      <td>${esc(a.masked_name)}</td><td class="mono">${esc(a.code)}</td>
      <td><span class="tag ${tag}">${label}</span></td><td>${checkin}</td>
      <td class="num">${esc(a.ticket_number || "—")}</td></tr>`;
  }).join("") || `<tr><td colspan="7" class="empty">${state.list.length ? "没有该状态的预约" : "当日没有预约"}</td></tr>`;
}

async function load() {
  state.day = $("ap-date").value || localDay();
  $("ap-note").textContent = "正在载入…";
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/appointments?date=${state.day}`);
    state.list = data.appointments;
    state.counts = data.counts;
    $("ap-note").textContent = data.date;
    renderCounts(data.counts);
    render();
    if (data.date === localDay()) badge(data.counts.booked);
  } catch (e) {
    $("ap-note").textContent = e.message;
  }
}

function badge(n) {
  $("nav-appointments").textContent = n || "";
}

async function loadBadge() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/appointments`);
    badge(data.counts.booked);
  } catch { /* the badge stays as it was */ }
}

function wire() {
  $("ap-date").value = localDay();
  $("ap-date").addEventListener("change", load);
  $("ap-refresh").addEventListener("click", load);
  $("ap-filter").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-status]");
    if (!btn) return;
    state.filter = btn.dataset.status;
    for (const b of $("ap-filter").children) b.setAttribute("aria-pressed", String(b === btn));
    render();
  });
  setInterval(() => {
    if (document.hidden) return;
    if (document.body.dataset.view === "appointments") load();
    else loadBadge();
  }, REFRESH_MS);
}

wire();
document.addEventListener("manage:view", (ev) => { if (ev.detail === "appointments") load(); });
if (document.body.dataset.view === "appointments") load();
else loadBadge();
