// The clerk's counter console (/counter/): one window's current ticket and its actions (buttons and
// F1–F5), the 一次告知 material checklist of the ticket's bundle, who waits for the window (live over
// Socket.IO) and this shift's no-shows with 重新排队. Managers pick the window they act for.
import { api as makeApi } from "./api.js";
import { clock, connectScreen, esc } from "./live.js";
import { priorityLabel } from "./waits.js";

let recallLimit = 3; // the demo hall's limit, or hall.recall_limit when the server sends it (409 recall_limit_reached past it)
const QUEUE_COUNT = 20;
const REFRESH_MS = 1500; // at most one waiting-line refresh per 1.5 s however busy the hall is
const KEYS = { F1: "call-next", F2: "recall", F3: "no-show", F4: "start", F5: "finish" };
const FORM = { original: "原件", copy: "复印件", electronic: "电子证照" };
const DONE = { "call-next": "已叫号", recall: "已重呼", "no-show": "已标记过号", start: "开始办理",
  finish: "已办结", pause: "窗口已暂停叫号", resume: "窗口已恢复叫号" };

const CHECKLIST_ICON = document.querySelector(".notice-placeholder .icon")?.outerHTML || "";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const isClerk = staff.role === "clerk";

// per-tab memory: survives a reload (F5 is a shortcut, but a crash or a manual reload happens)
const store = {
  get: (key, fallback) => {
    try { return JSON.parse(sessionStorage.getItem(`govhall.counter.${key}`)) ?? fallback; } catch { return fallback; }
  },
  set: (key, value) => sessionStorage.setItem(`govhall.counter.${key}`, JSON.stringify(value)),
};

const state = {
  windowId: isClerk ? staff.window?.id ?? null : store.get("window", null),
  hall: staff.hall,
  win: null,
  next: [],
  busy: null,               // the action in flight
  seq: 0,                   // bumped by each action: refreshes started before it are dropped
  notices: new Map(),       // bundle code -> one-time notice
  memo: store.get("memo", {}),       // ticket number -> {recalls, calledAt, startedAt, got: [material codes]}
  noShows: store.get("noshows", []), // [{id, number, bundle_name, at, requeued}]
};

// ------------------------------------------------------------------ toasts
function toast(message, kind = "info") {
  const box = $("toasts");
  const el = document.createElement("div");
  el.className = `toast ${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = message;
  box.append(el);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => { el.classList.add("leaving"); setTimeout(() => el.remove(), 250); },
    kind === "error" ? 6000 : 2500);
}

function apiError(e) {
  toast(e.message || "操作失败", "error");
  if (e.status === 401) setTimeout(() => { window.location.href = "/login?next=/counter/"; }, 2000);
}

// ------------------------------------------------------------------ ticket memory
function memoOf(number) {
  if (!number) return {};
  if (!state.memo[number]) {
    state.memo[number] = { recalls: 0, calledAt: Date.now(), startedAt: null, got: [] };
    const numbers = Object.keys(state.memo);
    if (numbers.length > 60) delete state.memo[numbers[0]]; // bounded: a shift, not a history
  }
  return state.memo[number];
}
const saveMemo = () => store.set("memo", state.memo);

// ------------------------------------------------------------------ what makes sense now
function allowed(action) {
  const w = state.win;
  if (!w || state.busy) return false;
  const status = w.current?.status;
  switch (action) {
    case "call-next": return w.open && !w.paused && (!w.current || status === "serving");
    case "recall": return status === "called" && memoOf(w.current.number).recalls < recallLimit;
    case "no-show": case "start": return status === "called";
    case "finish": case "transfer": return status === "called" || status === "serving";
    case "pause": return w.open && !w.paused;
    case "resume": return w.open && w.paused;
    default: return false;
  }
}

// ------------------------------------------------------------------ rendering
const mmss = (ms) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};

function renderTime() {
  const cur = state.win?.current;
  const el = $("t-time");
  if (!cur) { el.textContent = ""; return; }
  const m = memoOf(cur.number);
  el.textContent = cur.status === "serving" && m.startedAt ? `办理用时 ${mmss(Date.now() - m.startedAt)}`
    : `叫号后 ${mmss(Date.now() - m.calledAt)}`;
}

function renderTicket() {
  const w = state.win;
  const cur = w?.current || null;
  const card = $("ticket-card");
  card.dataset.status = cur ? cur.status : "none";
  $("t-number").textContent = cur ? cur.number : w && !w.open ? "窗口关闭" : w?.paused ? "暂停中" : "等待叫号";
  $("t-bundle").textContent = cur ? cur.bundle_name || cur.bundle
    : w && w.open && !w.paused ? "暂无正在办理的号码，按 F1 叫下一位" : "暂无正在办理的号码";
  const pill = $("t-status");
  const [pillState, pillText] = !w ? ["idle", "载入中"] : !w.open ? ["closed", "窗口未开放"]
    : cur?.status === "serving" ? ["serving", "办理中"] : cur ? ["called", "已叫号 · 等候到窗"]
      : w.paused ? ["paused", "已暂停"] : ["idle", "空闲"];
  pill.dataset.status = pillState;
  pill.textContent = pillText;
  const tags = [];
  if (cur && priorityLabel(cur.priority)) tags.push(`<span class="tag tag-priority">绿色通道 · ${esc(priorityLabel(cur.priority))}</span>`);
  if (cur) {
    if (Number.isInteger(cur.recall_count)) memoOf(cur.number).recalls = cur.recall_count;
    const n = memoOf(cur.number).recalls;
    tags.push(`<span class="tag ${n >= recallLimit ? "tag-red" : n ? "tag-amber" : ""}" id="t-recall">重呼 ${n}/${recallLimit}</span>`);
    if (cur.transferred) tags.push(`<span class="tag tag-transfer">转入</span>`);
  }
  $("t-meta").innerHTML = tags.join("");
  const banner = $("t-banner");
  const text = !w ? "" : !w.open ? "本窗口未开放，无法叫号。请联系值班主任开启窗口。"
    : w.paused ? "窗口已暂停叫号，窗口屏显示“暂停服务”。点击“恢复”继续叫号。" : "";
  banner.textContent = text;
  banner.className = `banner${text ? " show" : ""}${w && !w.open ? " closed" : ""}`;
  renderTime();
}

function renderActions() {
  const w = state.win;
  const cur = w?.current;
  for (const btn of document.querySelectorAll("#actions .act")) {
    const action = btn.dataset.action === "pause" && w?.paused ? "resume" : btn.dataset.action;
    btn.disabled = !allowed(action);
    btn.classList.toggle("busy", state.busy === action);
  }
  $("call-sub").textContent = !w ? "" : !w.open ? "窗口未开放" : w.paused ? "请先恢复叫号"
    : cur?.status === "called" ? "请先开始办理、重呼或过号" : cur ? "办结当前号并叫下一位" : "叫下一位";
  const recalls = cur ? memoOf(cur.number).recalls : 0;
  $("recall-sub").textContent = cur?.status === "called"
    ? (recalls >= recallLimit ? `已呼满 ${recallLimit} 次，请过号` : `已重呼 ${recalls}/${recallLimit}`) : "再次呼叫";
  const pause = $("btn-pause");
  pause.dataset.mode = w?.paused ? "resume" : "pause";
  $("pause-label").textContent = w?.paused ? "恢复" : "暂停";
  $("pause-sub").textContent = w?.paused ? "恢复叫号" : "暂停叫号（离开窗口）";
}

function renderQueue() {
  const list = $("queue");
  const next = state.next;
  $("q-count").textContent = next.length >= QUEUE_COUNT ? `${QUEUE_COUNT}+ 人` : `${next.length} 人`;
  if (!next.length) {
    list.innerHTML = `<li class="empty" style="display:block">暂无等候</li>`;
    return;
  }
  const names = new Map((state.win?.bundles || []).map((b) => [b.code, b.name]));
  list.innerHTML = next.map((t, i) => {
    const tags = [t.transferred ? `<span class="tag tag-transfer">转入</span>` : "",
      priorityLabel(t.priority) ? `<span class="tag tag-priority">优先</span>` : ""].join("");
    const name = String(names.get(t.bundle) || t.bundle).replace(/（[^）]*）/g, "").replace(/一件事$/, "");
    return `<li data-number="${esc(t.number)}"><span class="pos">${i + 1}</span><span class="qn num">${esc(t.number)}</span>`
      + `<span class="qb"><span title="${esc(names.get(t.bundle) || t.bundle)}">${esc(name)}</span>${tags}</span></li>`;
  }).join("");
}

function renderNoShows() {
  const items = state.noShows.slice().reverse();
  $("ns-count").textContent = String(items.filter((t) => !t.requeued).length);
  $("noshows").innerHTML = items.length ? items.map((t) => {
    const at = new Date(t.at);
    const hm = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
    return `<li class="${t.requeued ? "done" : ""}"><span class="qn num">${esc(t.number)}</span>`
      + `<span class="when">${hm} 过号${t.requeued ? " · 已重排" : ""}</span>`
      + (t.requeued ? "" : `<button class="btn btn-sm" type="button" data-requeue="${t.id}">重新排队</button>`) + "</li>";
  }).join("") : `<li class="empty" style="display:block;border:0">本班暂无过号</li>`;
}

function renderHeader() {
  const w = state.win;
  $("win-number").textContent = w ? `${w.number}号窗口` : "—";
  $("win-name").textContent = w ? w.name : state.windowId ? "正在载入窗口…" : "未选择窗口";
  if (w) document.title = `${w.number}号窗口 · 窗口工作台`;
}

function render() {
  renderHeader();
  renderTicket();
  renderActions();
  renderQueue();
  renderNotice();
}

// ------------------------------------------------------------------ 一次告知 checklist
function materialRow(m, matterNames, allMatters, got) {
  const tags = [];
  if (m.exempt) tags.push(`<span class="tag tag-green">免提交</span>`);
  if (m.tolerated) tags.push(`<span class="tag tag-amber">可容缺</span>`);
  if (m.promise_allowed) tags.push(`<span class="tag tag-blue">可告知承诺</span>`);
  const notes = [m.exempt && m.exempt_note, m.note].filter(Boolean).map((n) => `<div class="m-note">${esc(n)}</div>`).join("");
  const form = `${FORM[m.form] || esc(m.form)}${m.copies > 0 && m.form !== "electronic" ? ` ${m.copies}份` : ""}`;
  const matters = m.matters.length >= allMatters ? "全部事项" : m.matters.map((c) => matterNames.get(c) || c).join("、");
  const check = m.exempt ? `<span class="exempt-mark" title="免提交">免</span>`
    : `<input type="checkbox" data-material="${esc(m.code)}" ${got ? "checked" : ""} aria-label="已收：${esc(m.name)}">`;
  const cls = [m.exempt ? "exempt" : "clickable", got && !m.exempt ? "got" : ""].join(" ");
  return `<tr class="${cls}" data-code="${esc(m.code)}"><td class="check">${check}</td>`
    + `<td><span class="m-name">${esc(m.name)}</span><span class="m-tags">${tags.join("")}</span>${notes}</td>`
    + `<td class="m-form">${form}</td><td class="m-matters">${esc(matters)}</td></tr>`;
}

function renderProgress(notice, got) {
  const required = notice.materials.filter((m) => !m.exempt);
  const have = required.filter((m) => got.includes(m.code));
  const missing = required.filter((m) => !got.includes(m.code));
  const soft = missing.every((m) => m.tolerated || m.promise_allowed);
  const el = $("n-progress");
  el.hidden = false;
  el.dataset.done = missing.length === 0 ? "1" : soft ? "soft" : "0";
  $("n-bar").style.width = `${required.length ? (have.length / required.length) * 100 : 100}%`;
  $("n-progress-text").textContent = !required.length ? "全部免提交"
    : missing.length === 0 ? `材料齐全 ${have.length}/${required.length}`
      : soft ? `已收 ${have.length}/${required.length} · 可容缺受理` : `已收 ${have.length}/${required.length}`;
}

function days(n) { return n === null || n === undefined ? null : `${n}个工作日`; }

function renderNotice() {
  const body = $("notice-body");
  const cur = state.win?.current;
  const code = cur?.bundle;
  if (body.dataset.key === `${code}|${cur?.number}` && body.dataset.filled === "1") {
    renderProgress(state.notices.get(code), memoOf(cur.number).got);
    return;
  }
  if (!cur) {
    body.dataset.key = "";
    body.dataset.filled = "0";
    $("n-progress").hidden = true;
    const served = (state.win?.bundles || []).map((b) => `<li class="tag">${esc(b.name)}</li>`).join("");
    body.innerHTML = `<div class="notice-placeholder">${CHECKLIST_ICON}`
      + `<div>叫号后在此显示该事项的一次告知材料清单，可逐项勾选群众已提交的材料</div>`
      + (served ? `<div style="margin-top:14px;font-size:13px">本窗口办理：</div><ul>${served}</ul>` : "") + "</div>";
    return;
  }
  const notice = state.notices.get(code);
  body.dataset.key = `${code}|${cur.number}`;
  if (!notice) {
    body.dataset.filled = "0";
    body.innerHTML = `<div class="notice-placeholder"><div>正在载入“${esc(cur.bundle_name || code)}”的一次告知…</div></div>`;
    loadNotice(code);
    return;
  }
  body.dataset.filled = "1";
  const got = memoOf(cur.number).got;
  const matterNames = new Map(notice.matters.map((m) => [m.code, m.name]));
  const facts = [
    days(notice.promised_days) && `<span class="promise">承诺时限 <b>${days(notice.promised_days)}</b></span>`,
    days(notice.legal_days) && `<span>法定时限 <b>${days(notice.legal_days)}</b></span>`,
    `<span>牵头部门 <b>${esc(notice.lead_department)}</b></span>`,
    `<span>包含事项 <b>${notice.matters.length}</b> 项</span>`,
    notice.fees && `<span>收费 <b>${esc(notice.fees)}</b></span>`,
  ].filter(Boolean).join("");
  // what the clerk has to collect first, then what is fetched as e-licences (免提交)
  const ordered = [...notice.materials.filter((m) => !m.exempt), ...notice.materials.filter((m) => m.exempt)];
  const rows = ordered.map((m) => materialRow(m, matterNames, notice.matters.length, got.includes(m.code))).join("");
  const conditions = notice.conditions.length
    ? `<div class="notice-section"><h4>受理条件</h4><ol>${notice.conditions.map((c) => `<li>${esc(c)}</li>`).join("")}</ol></div>` : "";
  const matters = notice.matters.map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(m.department)}</td>`
    + `<td class="num">${days(m.promised_days) || "—"}</td><td>${esc(m.fee || "不收费")}</td></tr>`).join("");
  body.innerHTML = `<div class="notice-title"><h3>${esc(notice.name)}</h3><div class="facts">${facts}</div></div>`
    + `<table class="table materials"><thead><tr><th></th><th>材料名称（共 ${notice.materials.length} 项）</th><th>形式</th><th>适用事项</th></tr></thead><tbody>${rows}</tbody></table>`
    + conditions
    + `<div class="notice-section"><details><summary>包含事项（${notice.matters.length} 项）</summary>`
    + `<table class="table matters"><thead><tr><th>事项</th><th>承办部门</th><th>承诺时限</th><th>收费</th></tr></thead><tbody>${matters}</tbody></table></details></div>`;
  renderProgress(notice, got);
}

async function loadNotice(code) {
  if (state.notices.has(code) || loadNotice.pending?.has(code)) return;
  loadNotice.pending = loadNotice.pending || new Set();
  loadNotice.pending.add(code);
  try {
    state.notices.set(code, await api.get(`/bundles/${encodeURIComponent(code)}`));
    renderNotice();
  } catch (e) {
    toast(`一次告知载入失败：${e.message}`, "error");
  } finally {
    loadNotice.pending.delete(code);
  }
}

function toggleMaterial(code, on) {
  const cur = state.win?.current;
  if (!cur) return;
  const m = memoOf(cur.number);
  m.got = on ? [...new Set([...m.got, code])] : m.got.filter((c) => c !== code);
  saveMemo();
  const row = document.querySelector(`#notice-body tr[data-code="${CSS.escape(code)}"]`);
  if (row) {
    row.classList.toggle("got", on);
    row.querySelector("input").checked = on;
  }
  renderProgress(state.notices.get(cur.bundle), m.got);
}

// ------------------------------------------------------------------ server state
function apply(data) {
  if (data.hall?.name) $("hall-name").textContent = data.hall.name;
  if (Number.isInteger(data.hall?.recall_limit)) recallLimit = data.hall.recall_limit;
  if (data.window) {
    const before = state.win?.current?.number;
    state.win = data.window;
    const cur = state.win.current;
    if (cur && cur.number !== before) memoOf(cur.number);
    if (cur?.status === "serving" && !memoOf(cur.number).startedAt) memoOf(cur.number).startedAt = Date.now();
    saveMemo();
  }
  if (Array.isArray(data.next)) state.next = data.next;
  render();
  document.body.dataset.ready = "1";
}

let lastFetch = 0;
let refreshTimer = null;
function refreshSoon(delay = null) {
  if (refreshTimer || !state.windowId) return;
  const wait = delay ?? Math.max(0, lastFetch + REFRESH_MS - Date.now());
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    lastFetch = Date.now();
    const seq = state.seq;
    try {
      const data = await api.get(`/windows/${state.windowId}/screen?count=${QUEUE_COUNT}`);
      if (seq === state.seq) apply(data);
      else refreshSoon();
    } catch (e) {
      if (e.status === 404) toast(e.message, "error");
    }
  }, wait);
}

// ------------------------------------------------------------------ actions
function afterAction(action, answer) {
  const w = state.win;
  const t = answer?.ticket;
  if (action === "pause" || action === "resume") {
    state.win = { ...w, paused: Boolean(answer.paused) };
    toast(DONE[action], "ok");
    return;
  }
  if (action === "call-next" && t) {
    state.memo[t.number] = { recalls: 0, calledAt: Date.now(), startedAt: null, got: [] };
    state.win = { ...w, current: { number: t.number, bundle: t.bundle, bundle_name: t.bundle_name,
      priority: t.priority, status: "called" } };
    state.next = state.next.filter((n) => n.number !== t.number);
    loadNotice(t.bundle);
    toast(`${DONE[action]} ${t.number}`, "ok");
  } else if (action === "recall" && t) {
    memoOf(t.number).recalls = t.recall_count ?? memoOf(t.number).recalls + 1;
    toast(`${DONE[action]} ${t.number}（第 ${memoOf(t.number).recalls} 次）`, "ok");
  } else if (action === "start" && t) {
    memoOf(t.number).startedAt = Date.now();
    state.win = { ...w, current: { ...w.current, status: "serving" } };
    toast(`${t.number} ${DONE[action]}`, "ok");
  } else if (action === "no-show" && t) {
    state.noShows = [...state.noShows.filter((n) => n.id !== t.id), { id: t.id, number: t.number,
      bundle_name: t.bundle_name, at: Date.now(), requeued: false }].slice(-30);
    store.set("noshows", state.noShows);
    state.win = { ...w, current: null };
    renderNoShows();
    toast(`${t.number} ${DONE[action]}`, "ok");
  } else if (action === "finish" && t) {
    state.win = { ...w, current: null };
    toast(`${t.number} ${DONE[action]}`, "ok");
  }
  saveMemo();
}

async function act(action, body) {
  if (!allowed(action)) return;
  state.busy = action;
  state.seq += 1;
  renderActions();
  try {
    afterAction(action, await api.post(`/windows/${state.windowId}/${action}`, body));
  } catch (e) {
    if (e.code === "recall_limit_reached" && state.win?.current) memoOf(state.win.current.number).recalls = recallLimit;
    apiError(e);
  } finally {
    state.busy = null;
    state.seq += 1;
    render();
    refreshSoon(0);
  }
}

async function requeue(id) {
  const item = state.noShows.find((t) => t.id === id);
  try {
    const answer = await api.post(`/tickets/${id}/requeue`);
    if (item) item.requeued = true;
    store.set("noshows", state.noShows);
    toast(`${answer.ticket?.number || item?.number || ""} 已重新排队`, "ok");
  } catch (e) {
    apiError(e);
    if (e.status === 409 && item) { item.requeued = true; store.set("noshows", state.noShows); }
  }
  renderNoShows();
  refreshSoon();
}

// ------------------------------------------------------------------ transfer dialog
const transfer = { tab: "bundle", bundles: null, windows: null };

async function hallLists() {
  const [bundles, windows] = await Promise.all([
    api.get(`/halls/${encodeURIComponent(state.hall)}/bundles`),
    api.get(`/halls/${encodeURIComponent(state.hall)}/windows`),
  ]);
  transfer.bundles = bundles.bundles;
  transfer.windows = windows.windows;
}

function selectTab(tab) {
  transfer.tab = tab;
  for (const b of document.querySelectorAll("#transfer-dialog [role=tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  for (const p of document.querySelectorAll("#transfer-dialog [data-panel]")) p.hidden = p.dataset.panel !== tab;
  if (tab === "window") $("tr-window").focus();
}

function fillTransfer() {
  const cur = state.win.current;
  $("tr-bundles").innerHTML = transfer.bundles.map((b) => {
    const same = b.code === cur.bundle;
    const closed = !b.open_windows;
    return `<label class="choice"><input type="radio" name="tr-bundle" value="${esc(b.code)}" ${same ? "disabled" : ""}>`
      + `<span class="prefix">${esc(b.prefix)}</span><b>${esc(b.name.replace(/一件事$/, ""))}</b>`
      + `<small>${same ? "当前事项" : closed ? "暂无开放窗口" : `等候 ${b.waiting} 人 · ${b.open_windows} 个窗口`}</small></label>`;
  }).join("");
  $("tr-windows").innerHTML = transfer.windows.map((w) => {
    const self = w.id === state.windowId;
    return `<button type="button" class="choice${self || !w.open ? " disabled" : ""}" data-window="${w.number}" ${self || !w.open ? "disabled" : ""}>`
      + `<b>${w.number}号窗口</b><small>${esc(w.name)}${self ? " · 本窗口" : !w.open ? " · 未开放" : w.paused ? " · 暂停中" : ""}</small></button>`;
  }).join("");
}

async function openTransfer() {
  if (!allowed("transfer")) return;
  const dialog = $("transfer-dialog");
  $("tr-number").textContent = state.win.current.number;
  $("tr-window").value = "";
  selectTab("bundle");
  dialog.showModal();
  try {
    await hallLists();
    fillTransfer();
  } catch (e) {
    $("tr-bundles").innerHTML = `<div class="empty">${esc(e.message)}</div>`;
  }
}

async function submitTransfer(event) {
  event.preventDefault();
  let body;
  let where;
  if (transfer.tab === "bundle") {
    const picked = document.querySelector("input[name=tr-bundle]:checked");
    if (!picked) { toast("请选择要转到的事项", "error"); return; }
    body = { bundle: picked.value };
    where = transfer.bundles.find((b) => b.code === picked.value)?.name || picked.value;
  } else {
    const number = Number.parseInt($("tr-window").value, 10);
    if (!Number.isInteger(number) || number < 1) { toast("请输入目标窗口号", "error"); $("tr-window").focus(); return; }
    body = { window: number };
    where = `${number}号窗口`;
  }
  const number = state.win.current?.number;
  $("tr-ok").disabled = true;
  state.busy = "transfer";
  state.seq += 1;
  try {
    await api.post(`/windows/${state.windowId}/transfer`, body);
    $("transfer-dialog").close();
    state.win = { ...state.win, current: null };
    toast(`${number} 已转至 ${where}`, "ok");
  } catch (e) {
    apiError(e);
  } finally {
    $("tr-ok").disabled = false;
    state.busy = null;
    state.seq += 1;
    render();
    refreshSoon(0);
  }
}

// ------------------------------------------------------------------ managers: which window
async function pickWindow() {
  const dialog = $("window-dialog");
  if (!dialog.open) dialog.showModal();
  try {
    if (!transfer.windows) transfer.windows = (await api.get(`/halls/${encodeURIComponent(state.hall)}/windows`)).windows;
    $("wd-windows").innerHTML = transfer.windows.map((w) => `<button type="button" class="choice${w.id === state.windowId ? " selected" : ""}" data-pick="${w.id}" data-number="${w.number}">`
      + `<b>${w.number}号窗口</b><small>${esc(w.name)}${!w.open ? " · 未开放" : w.paused ? " · 暂停中" : ""}</small></button>`).join("");
  } catch (e) {
    $("wd-windows").innerHTML = `<div class="empty">${esc(e.message)}</div>`;
  }
}

// ------------------------------------------------------------------ keyboard
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(target.type);
}

function onKey(event) {
  const action = KEYS[event.key];
  if (!action) return;
  event.preventDefault(); // F1 help and F5 reload would take the clerk away from the console
  if (event.repeat || event.ctrlKey || event.altKey || event.metaKey) return;
  if (document.querySelector("dialog[open]") || typing(event.target)) return;
  act(action);
}

// ------------------------------------------------------------------ wiring
function wire() {
  $("actions").addEventListener("click", (event) => {
    const btn = event.target.closest(".act");
    if (!btn || btn.disabled) return;
    const action = btn.dataset.action;
    if (action === "transfer") openTransfer();
    else if (action === "pause") act(state.win?.paused ? "resume" : "pause");
    else act(action);
  });
  document.addEventListener("keydown", onKey);
  $("notice-body").addEventListener("click", (event) => {
    const row = event.target.closest("tr.clickable");
    if (!row) return;
    const input = row.querySelector("input[type=checkbox]");
    const on = event.target === input ? input.checked : !input.checked;
    toggleMaterial(row.dataset.code, on);
  });
  $("noshows").addEventListener("click", (event) => {
    const btn = event.target.closest("[data-requeue]");
    if (btn) { btn.disabled = true; requeue(Number(btn.dataset.requeue)); }
  });
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("click", (event) => {
      if (event.target.closest("[data-close]") || event.target === dialog) dialog.close();
    });
  }
  for (const tab of document.querySelectorAll("#transfer-dialog [role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  }
  $("tr-windows").addEventListener("click", (event) => {
    const btn = event.target.closest("[data-window]");
    if (!btn || btn.disabled) return;
    $("tr-window").value = btn.dataset.window;
    for (const b of $("tr-windows").children) b.classList.toggle("selected", b === btn);
  });
  $("tr-window").addEventListener("input", () => {
    for (const b of $("tr-windows").children) b.classList.toggle("selected", b.dataset.window === $("tr-window").value);
  });
  $("transfer-form").addEventListener("submit", submitTransfer);
  $("wd-windows").addEventListener("click", (event) => {
    const btn = event.target.closest("[data-pick]");
    if (!btn) return;
    store.set("window", Number(btn.dataset.pick));
    window.location.reload(); // one window's live channel per page
  });
  $("switch-window").addEventListener("click", pickWindow);
}

function setConnection(online) {
  const conn = $("conn");
  conn.dataset.state = online ? "online" : "offline";
  $("conn-text").textContent = online ? "实时连接正常" : "连接中断，正在重连…";
}

function start() {
  wire();
  clock($("clock"));
  setInterval(renderTime, 1000);
  renderNoShows();
  render();
  if (!isClerk) $("switch-window").hidden = false;
  if (!state.windowId) {
    if (isClerk) {
      $("win-name").textContent = "账号未分配窗口";
      toast("您的账号未分配窗口，请联系中心管理员", "error");
    } else {
      pickWindow();
    }
    $("conn").dataset.state = "idle";
    $("conn-text").textContent = "未选择窗口";
    return;
  }
  const socket = connectScreen({
    hall: state.hall, screen: `window:${state.windowId}`, token: staff.token,
    onStale: (stale) => setConnection(!stale && socket.connected),
    handlers: {
      snapshot: (data) => { apply(data); refreshSoon(); },
      window_updated: (data) => {
        if (data.window?.id !== state.windowId || state.busy) return;
        apply({ window: data.window });
        refreshSoon();
      },
      queue_updated: () => refreshSoon(),
      error: (error) => toast(error?.message || "实时连接订阅失败", "error"),
    },
  });
  socket.on("connect", () => setConnection(true));
  socket.on("disconnect", () => setConnection(false));
  socket.on("connect_error", () => setConnection(false));
  refreshSoon(0);
}

start();
