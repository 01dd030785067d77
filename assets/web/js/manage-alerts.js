// 办件激增预警 in the manager console: a banner above every view listing the bundles whose queue passes
// the hall's thresholds, with the windows that could be opened (paused or closed ones allocated to the
// bundle) or reallocated (open windows with little queue). Pushed live: the server emits
// `surge_alert` to the manager room after every queue change; the snapshot on (re)subscribe carries
// the current alerts, and GET …/alerts every 30 s catches a longest wait that grows past its
// threshold while nothing else happens. The banner clears itself when the queues fall back.
/* global io */
import { api as makeApi } from "./api.js";
import { esc } from "./live.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const POLL_MS = 30000;
const STATE = { paused: "暂停", closed: "关闭" };

let shown = new Set(); // bundles alerted last time: a new one flashes
const shortName = (name) => String(name || "").replace(/（.*?）|\(.*?\)/g, "").replace(/一件事$/, "");
const windowList = (list, note) => list.map((w) => `<span class="s-win">${w.number}号窗口<small>${note(w)}</small></span>`).join("");

function item(a, fresh) {
  const why = [];
  if (a.reasons.includes("stranded")) why.push(`<b class="s-stranded">已没有开放窗口办理</b>`);
  if (a.reasons.includes("waiting")) why.push(`等候 <b class="num">${a.waiting}</b> 人（预警值 ${a.waiting_threshold}）`);
  else why.push(`等候 ${a.waiting} 人`);
  if (a.reasons.includes("wait")) why.push(`最长已等 <b class="num">${a.longest_wait_min}</b> 分钟（预警值 ${a.wait_threshold_min}）`);
  const open = a.open.length ? `<span class="s-do"><i>可开启</i>${windowList(a.open, (w) => STATE[w.state] || "")}</span>` : "";
  const move = a.reallocate.length
    ? `<span class="s-do"><i>可调配</i>${windowList(a.reallocate, (w) => `等候 ${w.waiting} 人`)}</span>` : "";
  const none = !open && !move ? `<span class="s-do"><i>建议</i>暂无空闲窗口，可安排帮办人员引导分流</span>` : "";
  return `<li class="s-item ${fresh ? "s-new" : ""}" data-bundle="${esc(a.bundle)}">
      <span class="s-what"><span class="q-prefix">${esc(a.prefix)}</span><b>${esc(shortName(a.name))}</b> ${why.join("，")}</span>
      ${open}${move}${none}</li>`;
}

export function showAlerts(alerts) {
  const box = $("surge");
  const now = new Set(alerts.map((a) => a.bundle));
  box.hidden = alerts.length === 0;
  box.dataset.count = String(alerts.length);
  if (!alerts.length) {
    box.innerHTML = "";
    shown = now;
    return;
  }
  box.innerHTML = `<div class="s-head"><b class="s-title">办件激增预警</b>
      <span class="s-sub">${alerts.length} 项一件事${alerts.some((a) => a.reasons.includes("stranded"))
        ? "需要处理（有人等候但窗口已关闭）" : "超过预警值"}，请及时增开或调配窗口</span>
      <a class="s-link" href="#alloc">调整窗口分配 →</a><a class="s-link" href="#settings">预警设置</a></div>
    <ul class="s-list">${alerts.map((a) => item(a, !shown.has(a.bundle))).join("")}</ul>`;
  shown = now;
}

async function poll() {
  if (document.hidden) return;
  try {
    const { alerts } = await api.get(`/halls/${encodeURIComponent(HALL)}/alerts`);
    showAlerts(alerts);
  } catch { /* the pushed state stays shown */ }
}

function connect() {
  if (typeof io === "undefined") return;
  const socket = io("/hall", { transports: ["websocket", "polling"], auth: { token: staff.token },
    reconnectionDelayMax: 5000 });
  socket.on("connect", () => socket.emit("subscribe", { hall: HALL, screen: "manager" }));
  socket.on("snapshot", (data) => { if (Array.isArray(data.surge_alerts)) showAlerts(data.surge_alerts); });
  socket.on("surge_alert", (data) => { if (data?.hall === HALL) showAlerts(data.alerts || []); });
}

connect();
setInterval(poll, POLL_MS);
