// The manager's console (/manage/): the hall live (tiles, waits per 一件事 with long waits marked,
// every window's state with open/close and pause/resume), the window allocation editor and matrix,
// staff accounts, device tokens (shown once) and the audit log in plain Chinese.
// Live over Socket.IO (screen "manager"); longest waits and the day's count come from GET …/live,
// fetched at most once per 2 s after events and every 30 s (waits grow while nothing happens).
import { api as makeApi } from "./api.js";
import { clock, connectScreen, esc } from "./live.js";

const REFRESH_MS = 2000;
const PERIODIC_MS = 30000;
const AUDIT_MS = 20000;
const AMBER_MIN = 30;
const RED_MIN = 60;
const CALLS_SHOWN = 12;

const RANK = { 1: "主办", 2: "兼办", 3: "补位" };
const ROLE = { clerk: "窗口人员", manager: "中心管理员", admin: "系统管理员" };
const DEVICE = { kiosk: "自助终端", display: "显示屏", rating_pad: "评价器" };
const KIND_CLASS = { 综合受理: "k-general", 专窗: "k-special", 帮办代办: "k-helper", 绿色通道: "k-green", 办不成事反映: "k-fail" };
const STATE = { busy: "服务中", idle: "空闲", paused: "暂停", closed: "关闭" };
const ACTION = {
  "window.allocation": ["调整窗口分配", "blue"], "window.open": ["开放窗口", "green"],
  "window.close": ["关闭窗口", "red"], "window.pause": ["暂停叫号", "amber"], "window.resume": ["恢复叫号", "green"],
  "staff.create": ["新建工作人员", "blue"], "staff.update": ["修改工作人员", "blue"],
  "device.issue": ["签发设备令牌", "blue"], "device.revoke": ["注销设备令牌", "red"],
  "auth.login": ["登录", ""], "auth.failed": ["登录失败", "red"], "ticket.requeue": ["过号重新排队", ""],
  "application.advance": ["办件流转", ""], "followup.settings": ["差评回访设置", ""],
  "followup.verify": ["差评核实", "amber"], "followup.rectify": ["差评整改", "amber"],
  "followup.callback": ["差评回访", "amber"], "followup.close": ["差评办结", "green"],
  "demo.seed": ["初始化演示大厅", ""], "catalogue.seed": ["导入事项目录", ""],
};
const FIELD = { username: "用户名", name: "姓名", password: "密码", role: "角色", window: "座席窗口",
  active: "启用状态", kind: "设备类型", bundles: "事项", rank: "优先级", code: "事项编码", open: "开放状态" };

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const isAdmin = staff.role === "admin";

const state = {
  live: null, // the manager snapshot, kept current by events
  view: "live",
  winFilter: "all",
  catalogue: new Map(), // code -> {code, name, prefix}: every bundle seen, served or not
  alloc: { number: null, base: new Map(), draft: new Map(), saved: null, stale: false },
  staff: [],
  devices: [],
  audit: [],
  auditFilter: "",
};

// ------------------------------------------------------------------ small helpers
const shortName = (name) => String(name || "").replace(/（.*?）|\(.*?\)/g, "").replace(/一件事$/, "");
const byNumber = (a, b) => a.number - b.number;
const windows = () => (state.live?.windows || []).slice().sort(byNumber);
const windowState = (w) => (!w.open ? "closed" : w.paused ? "paused" : w.current ? "busy" : "idle");
const serving = (w) => w.open && !w.paused;

function timeParts(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const opts = { hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit" };
  // local time, as the header clock (the console runs on a PC in the hall)
  const parts = new Intl.DateTimeFormat("zh-CN", opts).formatToParts(d);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}
function fmtTime(iso) {
  const p = timeParts(iso);
  return p ? `${p.hour}:${p.minute}:${p.second}` : "—";
}
function fmtDateTime(iso) {
  const p = timeParts(iso);
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}` : "—";
}
function ago(iso) {
  if (!iso) return "从未上线";
  const min = Math.floor((Date.now() - Date.parse(iso)) / 60000);
  if (Number.isNaN(min)) return "—";
  if (min < 1) return "刚刚";
  if (min < 60) return `${min} 分钟前`;
  if (min < 1440) return `${Math.floor(min / 60)} 小时前`;
  return fmtDateTime(iso).slice(0, 16);
}
const level = (min) => (min > RED_MIN ? 2 : min > AMBER_MIN ? 1 : 0);
function waitText(b) {
  if (b.wait_min === null || b.wait_min === undefined) return b.waiting ? "无开放窗口" : "—";
  if (!b.waiting && b.wait_min <= 0) return "—";
  if (b.wait_min >= 90) return `约 ${Math.round(b.wait_min / 30) / 2} 小时`;
  return `约 ${Math.max(1, Math.round(b.wait_min))} 分钟`;
}

function randomPassword() {
  const chars = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}

// ------------------------------------------------------------------ toasts and errors
function toast(message, kind = "info") {
  const box = $("toasts");
  const el = document.createElement("div");
  el.className = `toast ${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = message;
  box.append(el);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(() => { el.classList.add("leaving"); setTimeout(() => el.remove(), 250); },
    kind === "error" ? 6000 : 3500);
}

/** The server's message in Chinese (input validation messages come from marshmallow in English). */
function errorText(e) {
  if (e.status === 401) return "登录已过期，请重新登录";
  let text = String(e.message || "操作失败");
  if (e.status === 403 && !/[\u4e00-\u9fff]/.test(text)) return "没有权限执行此操作";
  if (!/[A-Za-z]{3,}/.test(text)) return text;
  text = text
    .replace(/Length must be between (\d+) and (\d+)\./g, "长度应为 $1–$2 个字符")
    .replace(/Shorter than minimum length (\d+)\./g, "至少 $1 个字符")
    .replace(/Longer than maximum length (\d+)\./g, "最多 $1 个字符")
    .replace(/Must be greater than or equal to (\d+) and less than or equal to (\d+)\./g, "应在 $1–$2 之间")
    .replace(/String does not match expected pattern\./g, "格式不正确（只能包含字母、数字和 ._-）")
    .replace(/Must be one of:[^.;]*\./g, "取值无效")
    .replace(/Missing data for required field\./g, "必填")
    .replace(/Field may not be null\./g, "不能为空")
    .replace(/Not a valid (integer|string|boolean)\./g, "格式不正确")
    .replace(/Unknown field\./g, "不支持的字段")
    .replace(/\{(\d+): /g, (_, i) => `第${Number(i) + 1}项 `)
    .replace(/\b([a-z_]+)\b(?=\s*[:'])/g, (f) => FIELD[f] || f)
    .replace(/[{}[\]']/g, "")
    .replace(/;\s*/g, "；")
    .replace(/: /g, "：");
  return text;
}

function apiError(e) {
  toast(errorText(e), "error");
  if (e.status === 401) setTimeout(() => { window.location.href = "/login?next=/manage/"; }, 2000);
}

// ------------------------------------------------------------------ dialogs
function confirmBox({ title = "请确认", text, ok = "确定", danger = true }) {
  const dialog = $("confirm-dialog");
  $("cf-title").textContent = title;
  $("cf-text").textContent = text;
  $("confirm-ok").textContent = ok;
  $("confirm-ok").className = `btn ${danger ? "btn-danger" : "btn-primary"}`;
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

function wireDialogs() {
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("click", (ev) => {
      if (ev.target.closest("[data-close]")) dialog.close();
    });
  }
  // the token is shown once: the dialog closes only by its button, never by Esc by mistake
  $("token-dialog").addEventListener("cancel", (ev) => ev.preventDefault());
  $("token-dialog").addEventListener("close", () => {
    $("token-value").value = "";
    $("tk-use").textContent = "";
    loadDevices();
  });
  document.addEventListener("click", (ev) => {
    const gen = ev.target.closest("[data-generate]");
    if (gen) {
      const input = $(gen.dataset.generate);
      input.value = randomPassword();
      input.focus();
      input.select();
    }
  });
}

// ================================================================== 大厅实况
function applyLive(data) {
  if (!data || !Array.isArray(data.windows)) return;
  state.live = { ...(state.live || {}), ...data };
  learnCatalogue();
  renderHall();
  renderLive();
  renderAlloc();
  document.body.dataset.ready = "1";
}

function learnCatalogue() {
  const add = (b) => {
    if (!b?.code) return;
    const known = state.catalogue.get(b.code) || {};
    state.catalogue.set(b.code, { code: b.code, name: b.name || known.name || b.code,
      prefix: b.prefix || known.prefix || "" });
  };
  for (const b of state.live.bundles || []) add(b);
  for (const w of state.live.windows || []) for (const b of w.bundles || []) add(b);
  try {
    localStorage.setItem(`govhall.manage.catalogue.${HALL}`, JSON.stringify([...state.catalogue.values()]));
  } catch { /* private mode: the catalogue is relearned on each visit */ }
}

function catalogue() {
  return [...state.catalogue.values()].sort((a, b) =>
    (a.prefix || "~").localeCompare(b.prefix || "~") || a.name.localeCompare(b.name, "zh-CN"));
}

function bundleOf(code) {
  return (state.live?.bundles || []).find((b) => b.code === code)
    || { ...(state.catalogue.get(code) || { code, name: code }), waiting: 0, wait_min: null, open_windows: 0 };
}

function renderHall() {
  const hall = state.live?.hall;
  if (!hall) return;
  $("hall-name").textContent = hall.name || "政务服务中心";
  document.title = `中心管理台 · ${hall.name || "政务服务中心"}`;
  if (hall.opens && hall.closes) {
    $("hall-hours").hidden = false;
    $("hall-hours").textContent = `办公时间 ${hall.opens}–${hall.closes}`;
  }
}

function renderLive() {
  const live = state.live;
  if (!live) return;
  const bundles = live.bundles || [];
  const wins = windows();
  const count = (s) => wins.filter((w) => windowState(w) === s).length;
  const waiting = bundles.reduce((n, b) => n + (b.waiting || 0), 0);
  const open = wins.filter((w) => w.open).length;

  $("t-waiting").textContent = waiting;
  $("nav-waiting").textContent = waiting ? String(waiting) : "";
  const busyBundles = bundles.filter((b) => b.waiting > 0).length;
  $("t-waiting-sub").textContent = waiting ? `分布在 ${busyBundles} 个一件事` : "当前无人等候";
  $("t-served").textContent = live.served_today ?? "—";
  $("t-served-sub").textContent = live.at ? `截至 ${fmtTime(live.at).slice(0, 5)}` : " ";
  $("t-open").textContent = open;
  $("t-open-of").textContent = `/ ${wins.length}`;
  $("t-open-sub").textContent = `暂停 ${count("paused")} · 关闭 ${count("closed")}`;
  const called = wins.filter((w) => w.current?.status === "called").length;
  $("t-busy").textContent = count("busy") + wins.filter((w) => w.paused && w.current).length;
  $("t-busy-sub").textContent = `办理中 ${wins.filter((w) => w.current?.status === "serving").length} · 待到窗 ${called}`;
  const longest = bundles.reduce((m, b) => ((b.longest_wait_min || 0) > (m?.longest_wait_min || 0) ? b : m), null);
  const longMin = longest?.longest_wait_min || 0;
  $("t-longest").textContent = waiting ? longMin : "—";
  $("t-longest-sub").textContent = waiting && longest ? shortName(longest.name) : "当前无人等候";
  $("tile-longest").dataset.level = waiting ? level(longMin) : 0;

  renderAlerts(bundles);
  renderWindows(wins);
  renderBundles(bundles);
  renderCalls();
}

function renderAlerts(bundles) {
  const items = [];
  for (const b of bundles) {
    if (b.waiting > 0 && !b.open_windows) {
      items.push([3, `<b>${esc(shortName(b.name))}</b> 有 ${b.waiting} 人等候，但没有开放窗口受理`]);
    } else if ((b.longest_wait_min || 0) > AMBER_MIN && b.waiting > 0) {
      items.push([level(b.longest_wait_min), `<b>${esc(shortName(b.name))}</b> 最长已等候 ${b.longest_wait_min} 分钟（${b.waiting} 人等候）`]);
    }
  }
  items.sort((a, b) => b[0] - a[0]);
  const box = $("alerts");
  box.hidden = items.length === 0;
  if (!items.length) { box.innerHTML = ""; return; }
  const shown = items.slice(0, 4).map(([lv, html]) => `<span class="al al${Math.min(lv, 2)}">${html}</span>`).join("");
  box.innerHTML = `<span class="al-title">等候预警</span>${shown}${items.length > 4 ? `<span class="al-more">等 ${items.length} 项</span>` : ""}`
    + `<a href="#alloc" class="al-link">调整窗口分配 →</a>`;
}

function allocationSummary(w) {
  const list = (w.bundles || []).slice().sort((a, b) => a.rank - b.rank);
  const all = state.catalogue.size;
  if (!list.length) return `<span class="w-none">未分配事项</span>`;
  if (list.length >= all && all > 3) {
    const ranks = [...new Set(list.map((b) => b.rank))];
    return `<span class="w-all">全部 ${list.length} 项${ranks.length === 1 ? ` · ${RANK[ranks[0]] || `优先级${ranks[0]}`}` : ""}</span>`;
  }
  return list.map((b) => {
    const p = state.catalogue.get(b.code)?.prefix || "?";
    return `<i class="chip r${Math.min(b.rank, 3)}" title="${esc(b.name)} · ${esc(RANK[b.rank] || `优先级${b.rank}`)}">${esc(p)}</i>`;
  }).join("");
}

function windowCard(w) {
  const s = windowState(w);
  const cur = w.current;
  const kind = w.kind || "";
  const ticket = cur
    ? `<div class="w-ticket"><b class="num">${esc(cur.number)}</b><span>${esc(shortName(cur.bundle_name || bundleOf(cur.bundle).name))}</span>`
      + `<em class="${cur.status}">${cur.status === "serving" ? "办理中" : "已叫号"}</em></div>`
    : `<div class="w-ticket none">${s === "closed" ? "窗口已关闭" : s === "paused" ? "暂停叫号" : "等待叫号"}</div>`;
  const acts = w.open
    ? `<button class="btn btn-sm" type="button" data-act="${w.paused ? "resume" : "pause"}">${w.paused ? "恢复叫号" : "暂停叫号"}</button>`
      + `<button class="btn btn-sm btn-ghost-danger" type="button" data-act="close">关闭窗口</button>`
    : `<button class="btn btn-sm btn-primary" type="button" data-act="open">开放窗口</button>`;
  return `<article class="win" data-window="${w.number}" data-id="${w.id}" data-state="${s}">
    <div class="w-top"><span class="w-no num">${w.number}<small>号</small></span>
      <span class="w-name" title="${esc(w.name)}">${esc(w.name)}</span>
      <span class="pill w-state" data-state="${s}">${STATE[s]}</span></div>
    <div class="w-kind"><span class="kind ${KIND_CLASS[kind] || ""}">${esc(kind || "窗口")}</span><span class="w-alloc">${allocationSummary(w)}</span></div>
    ${ticket}
    <div class="w-acts">${acts}</div>
  </article>`;
}

function renderWindows(wins) {
  const shown = wins.filter((w) => state.winFilter === "all" || windowState(w) === state.winFilter);
  $("win-count").textContent = state.winFilter === "all" ? wins.length : `${shown.length}/${wins.length}`;
  $("windows").innerHTML = shown.map(windowCard).join("") || `<div class="empty">没有${STATE[state.winFilter] || ""}的窗口</div>`;
}

function renderBundles(bundles) {
  const max = Math.max(1, ...bundles.map((b) => b.waiting || 0));
  $("bundle-rows").innerHTML = bundles.map((b) => {
    const lm = b.longest_wait_min || 0;
    const lv = b.waiting ? level(lm) : 0;
    const none = b.waiting > 0 && !b.open_windows;
    const longest = b.waiting ? `<span class="lw lw${lv}">${lm < 1 ? "不足1" : lm} 分钟</span>` : `<span class="dim">—</span>`;
    return `<tr data-bundle="${esc(b.code)}" class="${none ? "no-window" : lv ? `lv${lv}` : ""}">
      <td><span class="bn-cell"><span class="pfx">${esc(b.prefix)}</span><span class="bn" title="${esc(b.name)}">${esc(shortName(b.name))}</span></span></td>
      <td class="r waiting"><span class="wbar" style="--w:${Math.round(((b.waiting || 0) / max) * 100)}%"></span><b class="num">${b.waiting || 0}</b> 人</td>
      <td class="r longest">${longest}</td>
      <td class="r eta${none ? " bad" : ""}">${esc(waitText(b))}</td>
      <td class="r open num${b.open_windows ? "" : " bad"}">${b.open_windows ?? 0}</td></tr>`;
  }).join("") || `<tr><td colspan="5" class="empty">暂无事项</td></tr>`;
}

function renderCalls() {
  const calls = (state.live?.recent_calls || []).slice(0, CALLS_SHOWN);
  $("calls-note").textContent = calls.length ? "按时间倒序" : "";
  $("calls").innerHTML = calls.map((c) => `<li>
      <b class="num cn">${esc(c.ticket?.number)}</b>
      <span class="cb">${esc(shortName(bundleOf(c.ticket?.bundle).name))}</span>
      <span class="cw">→ ${esc(c.window?.number)}号窗口</span>
      ${c.recall ? `<span class="tag tag-amber">重呼</span>` : ""}
      <span class="ct num">${fmtTime(c.at)}</span></li>`).join("") || `<li class="empty">今日暂无叫号</li>`;
}

// live events: apply at once, then fetch the whole picture (longest waits, served today) soon after
let refreshTimer = null;
let lastRefresh = 0;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    lastRefresh = Date.now();
    try {
      applyLive(await api.get(`/halls/${encodeURIComponent(HALL)}/live`));
    } catch (e) {
      if (e.status === 401) apiError(e);
    }
  }, Math.max(250, lastRefresh + REFRESH_MS - Date.now()));
}

function onQueueUpdated(data) {
  if (!state.live || !Array.isArray(data.bundles)) return;
  const old = new Map((state.live.bundles || []).map((b) => [b.code, b]));
  state.live.bundles = data.bundles.map((b) => ({ longest_wait_min: old.get(b.code)?.longest_wait_min || 0, ...b }));
  state.live.waiting_total = state.live.bundles.reduce((n, b) => n + (b.waiting || 0), 0);
  learnCatalogue();
  renderLive();
  renderAlloc();
  refreshSoon();
}

function onWindowUpdated(data) {
  const w = data.window;
  if (!state.live || !w) return;
  const list = state.live.windows;
  const i = list.findIndex((x) => x.id === w.id);
  if (i >= 0) list[i] = { ...list[i], ...w }; else list.push(w);
  learnCatalogue();
  renderLive();
  if (w.number === state.alloc.number) syncEditorFrom(w);
  renderAlloc();
  refreshSoon();
}

function onTicketCalled(data) {
  if (!state.live) return;
  const calls = state.live.recent_calls || [];
  state.live.recent_calls = [{ ticket: data.ticket, window: data.window, recall: data.recall, at: data.at }, ...calls].slice(0, 20);
  renderCalls();
  refreshSoon();
}

async function windowAction(card, act) {
  const w = windows().find((x) => String(x.id) === card.dataset.id);
  if (!w) return;
  if (act === "close") {
    const busy = w.current ? `当前号码 ${w.current.number} 尚未办结，可在关闭后继续办结。` : "";
    const ok = await confirmBox({ title: `关闭 ${w.number}号窗口`, ok: "关闭窗口",
      text: `关闭后「${w.name}」不再叫号，大厅屏和窗口屏显示“窗口关闭”，等候时间将按其余窗口重新估算。${busy}` });
    if (!ok) return;
  }
  const buttons = card.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const updated = act === "open" || act === "close"
      ? await api.put(`/windows/${w.id}/open`, { open: act === "open" })
      : await api.post(`/windows/${w.id}/${act}`);
    onWindowUpdated({ window: { ...w, ...updated } });
    const done = { open: "已开放", close: "已关闭", pause: "已暂停叫号", resume: "已恢复叫号" }[act];
    toast(`${w.number}号窗口${done}`, "ok");
  } catch (e) {
    apiError(e);
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ================================================================== 窗口分配
function rankLabel(r) { return RANK[r] || `优先级${r}`; }

function selectAllocWindow(number, { force = false } = {}) {
  const a = state.alloc;
  if (!force && a.number !== null && a.number !== number && isDirty()) {
    confirmBox({ title: "放弃未保存的修改？", ok: "放弃修改",
      text: `${a.number}号窗口的分配修改尚未保存，切换窗口将放弃这些修改。` }).then((ok) => {
      if (ok) selectAllocWindow(number, { force: true });
      else $("alloc-window").value = String(a.number);
    });
    return;
  }
  const w = windows().find((x) => x.number === number);
  if (!w) return;
  a.number = number;
  a.base = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
  a.draft = new Map(a.base);
  a.stale = false;
  if (a.saved && a.saved.number !== number) a.saved = null;
  try { sessionStorage.setItem("govhall.manage.allocWindow", String(number)); } catch { /* ignore */ }
  renderAlloc();
}

/** Someone (or this page) changed the edited window: follow it unless the manager is mid-edit. */
function syncEditorFrom(w) {
  const a = state.alloc;
  const incoming = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
  if (sameMap(incoming, a.base)) return;
  if (isDirty() && !sameMap(incoming, a.draft)) {
    a.base = incoming;
    a.stale = true;
    return;
  }
  a.base = incoming;
  a.draft = new Map(incoming);
  a.stale = false;
}

const sameMap = (x, y) => x.size === y.size && [...x].every(([k, v]) => y.get(k) === v);
const isDirty = () => !sameMap(state.alloc.base, state.alloc.draft);

function diffOf(base, draft) {
  const added = [...draft.keys()].filter((c) => !base.has(c));
  const removed = [...base.keys()].filter((c) => !draft.has(c));
  const changed = [...draft.keys()].filter((c) => base.has(c) && base.get(c) !== draft.get(c));
  return { added, removed, changed };
}

/** Open windows that would serve each bundle once the draft is saved (the edited window included). */
function openAfter(code) {
  const a = state.alloc;
  return windows().filter((w) => serving(w)
    && (w.number === a.number ? a.draft.has(code) : (w.bundles || []).some((b) => b.code === code))).length;
}
const openNow = (code) => windows().filter((w) => serving(w) && (w.bundles || []).some((b) => b.code === code)).length;

function renderAlloc() {
  if (!state.live) return;
  renderMatrix();
  renderPicker();
  renderEditor();
}

function renderPicker() {
  const sel = $("alloc-window");
  const wins = windows();
  const key = wins.map((w) => `${w.number}:${w.name}:${w.open}`).join("|");
  if (sel.dataset.key !== key) {
    sel.dataset.key = key;
    sel.innerHTML = wins.map((w) => `<option value="${w.number}">${w.number}号 · ${esc(w.name)}${w.open ? "" : "（关闭）"}</option>`).join("");
  }
  if (state.alloc.number === null && wins.length) {
    const remembered = Number(sessionStorage.getItem("govhall.manage.allocWindow"));
    selectAllocWindow(wins.some((w) => w.number === remembered) ? remembered : wins[0].number, { force: true });
    return;
  }
  sel.value = String(state.alloc.number);
}

function renderMatrix() {
  const cols = catalogue();
  const wins = windows();
  const a = state.alloc;
  const head = `<thead><tr><th class="corner">窗口 \\ 一件事</th>${cols.map((b) =>
    `<th class="mcol" title="${esc(b.name)}"><span class="cn">${esc(shortName(b.name))}</span><span class="cp">${esc(b.prefix)}</span></th>`).join("")}</tr></thead>`;
  const rows = wins.map((w) => {
    const ranks = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
    const s = windowState(w);
    const cells = cols.map((b) => {
      const r = ranks.get(b.code);
      return r ? `<td><i class="rk rk${Math.min(r, 3)}" title="${w.number}号窗口 · ${esc(shortName(b.name))} · ${rankLabel(r)}">${r}</i></td>` : "<td></td>";
    }).join("");
    return `<tr data-window="${w.number}" class="${w.number === a.number ? "sel" : ""}${w.open ? "" : " closed"}" tabindex="0">
      <th class="rh"><span class="dot" data-state="${s}" title="${STATE[s]}"></span><b class="num">${w.number}</b><span title="${esc(w.name)}">${esc(w.name)}</span></th>${cells}</tr>`;
  }).join("");
  const foot = `<tfoot><tr class="sum"><th class="rh">开放窗口数</th>${cols.map((b) => {
    const n = openNow(b.code);
    return `<td class="num${n ? "" : " bad"}">${n}</td>`;
  }).join("")}</tr><tr class="sum"><th class="rh">当前等候</th>${cols.map((b) => {
    const n = bundleOf(b.code).waiting || 0;
    return `<td class="num${n ? " has" : ""}">${n || ""}</td>`;
  }).join("")}</tr></tfoot>`;
  $("matrix").innerHTML = head + `<tbody>${rows}</tbody>` + foot;
}

function renderEditor() {
  const a = state.alloc;
  const w = windows().find((x) => x.number === a.number);
  if (!w) { $("alloc-list").innerHTML = `<li class="empty">请选择窗口</li>`; return; }
  const s = windowState(w);
  $("ed-title").innerHTML = `<span class="ed-no num">${w.number}号窗口</span><span class="ed-name">${esc(w.name)}</span>`
    + `<span class="kind ${KIND_CLASS[w.kind] || ""}">${esc(w.kind || "窗口")}</span><span class="pill w-state" data-state="${s}">${STATE[s]}</span>`
    + (w.open ? "" : `<span class="ed-note">窗口关闭中：保存的分配在窗口开放后生效</span>`);
  const rows = catalogue().map((b) => {
    const r = a.draft.get(b.code);
    const on = r !== undefined;
    const baseRank = a.base.get(b.code);
    const changed = baseRank !== r;
    const ranks = [1, 2, 3];
    if (r && !ranks.includes(r)) ranks.push(r);
    const seg = ranks.map((k) => `<label data-rank="${k}" class="${r === k ? "on" : ""}"><input type="radio" name="rank-${esc(b.code)}" value="${k}" ${r === k ? "checked" : ""} ${on ? "" : "disabled"}>${k} ${rankLabel(k)}</label>`).join("");
    const info = bundleOf(b.code);
    const before = openNow(b.code);
    const after = openAfter(b.code);
    const delta = before !== after ? `<span class="delta ${after < before ? "down" : "up"}">→ ${after}</span>` : "";
    return `<li data-bundle="${esc(b.code)}" class="${on ? "on" : "off"}${changed ? " changed" : ""}">
      <label class="ck"><input type="checkbox" ${on ? "checked" : ""} aria-label="${esc(b.name)}"><span class="pfx">${esc(b.prefix)}</span><span class="bn" title="${esc(b.name)}">${esc(b.name)}</span></label>
      <span class="ed-stat">等候 <b class="num">${info.waiting || 0}</b> · 开放窗口 <b class="num${after ? "" : " bad"}">${before}</b>${delta}</span>
      <span class="rank-seg" role="radiogroup" aria-label="优先级">${seg}</span></li>`;
  }).join("");
  $("alloc-list").innerHTML = rows;

  const { added, removed, changed } = diffOf(a.base, a.draft);
  const dirty = added.length + removed.length + changed.length > 0;
  $("alloc-diff").innerHTML = dirty
    ? `已修改：${[added.length && `新增 <b>${added.length}</b> 项`, removed.length && `移除 <b>${removed.length}</b> 项`,
      changed.length && `调整优先级 <b>${changed.length}</b> 项`].filter(Boolean).join("，")}`
    : `未修改 · 共受理 <b>${a.base.size}</b> 项`;
  $("alloc-save").disabled = !dirty;
  $("alloc-reset").disabled = !dirty;

  const warnings = [];
  if (a.stale) warnings.push("该窗口的分配刚被他人修改，保存将覆盖对方的修改；如需查看最新分配请点击「撤销修改」。");
  if (dirty && a.draft.size === 0) warnings.push("保存后该窗口将不受理任何事项，无法叫号。");
  const orphan = catalogue().filter((b) => a.base.has(b.code) && !a.draft.has(b.code) && openAfter(b.code) === 0 && openNow(b.code) > 0);
  if (dirty && orphan.length) {
    warnings.push(`保存后以下一件事将没有开放窗口受理：${orphan.map((b) => `「${esc(shortName(b.name))}」${bundleOf(b.code).waiting ? `（${bundleOf(b.code).waiting} 人等候）` : ""}`).join("、")}`);
  }
  $("alloc-warn").hidden = warnings.length === 0;
  $("alloc-warn").innerHTML = warnings.map((t) => `<p>${t}</p>`).join("");

  const saved = a.saved;
  $("alloc-saved").hidden = !saved || saved.number !== a.number;
  if (saved && saved.number === a.number) {
    const chips = saved.bundles.slice().sort((x, y) => x.rank - y.rank)
      .map((b) => `<span class="sv r${Math.min(b.rank, 3)}">${esc(shortName(b.name))}<small>${rankLabel(b.rank)}</small></span>`).join("")
      || "<span class=\"sv\">不受理任何事项</span>";
    $("alloc-saved").innerHTML = `<div class="sv-head"><b>✓ 已生效</b> ${fmtTime(saved.at)} 保存，${saved.number}号窗口现在受理：</div><div class="sv-list">${chips}</div>`;
  }
}

async function saveAllocation() {
  const a = state.alloc;
  const number = a.number;
  const body = { bundles: [...a.draft].map(([code, rank]) => ({ code, rank })) };
  if (!body.bundles.length && !(await confirmBox({ title: "确认清空分配？", ok: "仍然保存",
    text: `${number}号窗口将不受理任何事项，叫号时不会叫到任何号码。` }))) return;
  $("alloc-save").disabled = true;
  $("alloc-save").classList.add("busy");
  try {
    const w = await api.put(`/halls/${encodeURIComponent(HALL)}/windows/${number}/bundles`, body);
    a.saved = { number, bundles: w.bundles || [], at: new Date().toISOString() };
    const old = windows().find((x) => x.number === number);
    a.base = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
    a.draft = new Map(a.base);
    a.stale = false;
    onWindowUpdated({ window: { ...(old || {}), ...w } });
    toast(`${number}号窗口分配已保存，立即生效（共 ${a.base.size} 项）`, "ok");
  } catch (e) {
    apiError(e);
    renderEditor();
  } finally {
    $("alloc-save").classList.remove("busy");
  }
}

function wireAlloc() {
  $("alloc-window").addEventListener("change", (ev) => selectAllocWindow(Number(ev.target.value)));
  $("matrix").addEventListener("click", (ev) => {
    const row = ev.target.closest("tbody tr[data-window]");
    if (row) selectAllocWindow(Number(row.dataset.window));
  });
  $("matrix").addEventListener("keydown", (ev) => {
    const row = ev.target.closest("tbody tr[data-window]");
    if (row && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); selectAllocWindow(Number(row.dataset.window)); }
  });
  $("alloc-list").addEventListener("change", (ev) => {
    const li = ev.target.closest("li[data-bundle]");
    if (!li) return;
    const code = li.dataset.bundle;
    const a = state.alloc;
    if (ev.target.type === "checkbox") {
      if (ev.target.checked) a.draft.set(code, a.base.get(code) || 1); else a.draft.delete(code);
    } else if (ev.target.type === "radio") {
      a.draft.set(code, Number(ev.target.value));
    }
    renderAlloc();
  });
  $("alloc-all").addEventListener("click", () => {
    for (const b of catalogue()) if (!state.alloc.draft.has(b.code)) state.alloc.draft.set(b.code, state.alloc.base.get(b.code) || 1);
    renderAlloc();
  });
  $("alloc-none").addEventListener("click", () => { state.alloc.draft.clear(); renderAlloc(); });
  $("alloc-reset").addEventListener("click", () => {
    const w = windows().find((x) => x.number === state.alloc.number);
    if (w) selectAllocWindow(w.number, { force: true });
  });
  $("alloc-save").addEventListener("click", saveAllocation);
  window.addEventListener("beforeunload", (ev) => {
    if (isDirty()) { ev.preventDefault(); ev.returnValue = ""; }
  });
}

// ================================================================== 工作人员
const naturally = (a, b) => a.localeCompare(b, "zh-CN", { numeric: true });
const ROLE_ORDER = { admin: 0, manager: 1, clerk: 2 };

async function loadStaff() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/staff`);
    state.staff = (data.staff || []).sort((a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || naturally(a.username, b.username));
    renderStaff();
    renderAudit();
  } catch (e) {
    apiError(e);
  }
}

function windowLabel(number) {
  if (number === null || number === undefined) return "";
  const w = windows().find((x) => x.number === number);
  return w ? `${number}号 · ${w.name}` : `${number}号窗口`;
}

function renderStaff() {
  const q = $("staff-search").value.trim().toLowerCase();
  const role = $("staff-role-filter").value;
  const list = state.staff.filter((s) => (!role || s.role === role)
    && (!q || `${s.username} ${s.name} ${s.window ?? ""}号`.toLowerCase().includes(q)));
  const active = state.staff.filter((s) => s.active).length;
  $("staff-count").textContent = `${active} 人启用 / 共 ${state.staff.length}`;
  $("nav-staff").textContent = active ? String(active) : "";
  $("staff-rows").innerHTML = list.map((s) => {
    const locked = s.role === "admin" && !isAdmin;
    const self = s.username === staff.username;
    const seat = s.window ? esc(windowLabel(s.window)) : `<span class="dim">${s.role === "clerk" ? "未分配" : "不固定"}</span>`;
    const acts = locked ? `<span class="dim">仅系统管理员可修改</span>`
      : `<button class="btn btn-sm" type="button" data-act="edit">编辑</button>`
        + `<button class="btn btn-sm" type="button" data-act="password">重置密码</button>`
        + (s.active
          ? `<button class="btn btn-sm btn-ghost-danger" type="button" data-act="deactivate" ${self ? "disabled title=\"不能停用自己的账号\"" : ""}>停用</button>`
          : `<button class="btn btn-sm" type="button" data-act="activate">启用</button>`);
    return `<tr data-staff="${s.id}" data-username="${esc(s.username)}" class="${s.active ? "" : "inactive"}">
      <td class="mono">${esc(s.username)}${self ? ` <span class="tag tag-blue">本人</span>` : ""}</td>
      <td>${esc(s.name)}</td>
      <td><span class="tag role-${esc(s.role)}">${esc(ROLE[s.role] || s.role)}</span></td>
      <td>${seat}</td>
      <td>${s.active ? `<span class="pill st-on">启用</span>` : `<span class="pill st-off">已停用</span>`}</td>
      <td class="r acts">${acts}</td></tr>`;
  }).join("") || `<tr><td colspan="6" class="empty">没有符合条件的工作人员</td></tr>`;
}

function fillSeatSelect(selected) {
  $("sd-window").innerHTML = `<option value="">不固定座席</option>`
    + windows().map((w) => `<option value="${w.number}">${w.number}号 · ${esc(w.name)}</option>`).join("");
  $("sd-window").value = selected ? String(selected) : "";
}

let editing = null; // the staff member the dialog edits, null when creating
function openStaffDialog(s = null) {
  editing = s;
  const form = $("staff-form");
  form.reset();
  $("sd-error").hidden = true;
  $("sd-title").textContent = s ? `编辑工作人员 · ${s.username}` : "新建工作人员";
  $("sd-ok").textContent = s ? "保存" : "创建";
  $("sd-username").value = s ? s.username : "";
  $("sd-username").disabled = Boolean(s);
  $("sd-name").value = s ? s.name : "";
  for (const opt of $("sd-role").querySelectorAll("[data-admin-only]")) opt.hidden = !isAdmin;
  $("sd-role").value = s ? s.role : "clerk";
  $("sd-role").disabled = Boolean(s && s.username === staff.username); // no locking oneself out
  fillSeatSelect(s ? s.window : null);
  $("sd-password-field").hidden = Boolean(s);
  $("sd-password").value = s ? "" : randomPassword();
  $("sd-foot").textContent = s ? "修改角色或座席后，该人员下次操作即按新设置生效" : "创建后即可用该账号登录";
  $("staff-dialog").showModal();
  (s ? $("sd-name") : $("sd-username")).focus();
}

function staffFormError(text) {
  $("sd-error").textContent = text;
  $("sd-error").hidden = false;
}

async function submitStaff(ev) {
  ev.preventDefault();
  const name = $("sd-name").value.trim();
  const role = $("sd-role").value;
  const seat = $("sd-window").value ? Number($("sd-window").value) : null;
  if (!editing) {
    const username = $("sd-username").value.trim();
    const password = $("sd-password").value;
    if (!/^[A-Za-z0-9_.-]{2,60}$/.test(username)) return staffFormError("用户名应为 2–60 位字母、数字或 ._-");
    if (!name) return staffFormError("请填写姓名");
    if (password.length < 8) return staffFormError("初始密码至少 8 位");
    if (role === "clerk" && seat === null && !(await confirmBox({ title: "未分配座席", ok: "仍然创建", danger: false,
      text: "窗口人员未分配座席时无法叫号，可稍后在「编辑」中分配。" }))) return undefined;
    return sendStaff(() => api.post(`/halls/${encodeURIComponent(HALL)}/staff`, { username, name, password, role, window: seat }),
      `已创建工作人员 ${name}（${username}）`);
  }
  if (!name) return staffFormError("请填写姓名");
  const body = {};
  if (name !== editing.name) body.name = name;
  if (role !== editing.role) body.role = role;
  if (seat !== (editing.window ?? null)) body.window = seat;
  if (!Object.keys(body).length) { $("staff-dialog").close(); return undefined; }
  return sendStaff(() => api.patch(`/halls/${encodeURIComponent(HALL)}/staff/${editing.id}`, body), `已保存 ${name} 的修改`);
}

async function sendStaff(call, done) {
  $("sd-ok").disabled = true;
  try {
    await call();
    $("staff-dialog").close();
    toast(done, "ok");
    await loadStaff();
  } catch (e) {
    if (e.status === 401) apiError(e); else staffFormError(errorText(e));
  } finally {
    $("sd-ok").disabled = false;
  }
}

let resetting = null;
function openPasswordDialog(s) {
  resetting = s;
  $("pw-error").hidden = true;
  $("pw-who").textContent = `为 ${s.name}（${s.username}）设置新密码`;
  $("pw-password").value = randomPassword();
  $("pw-dialog").showModal();
  $("pw-password").select();
}

async function submitPassword(ev) {
  ev.preventDefault();
  const password = $("pw-password").value;
  if (password.length < 8) {
    $("pw-error").textContent = "新密码至少 8 位";
    $("pw-error").hidden = false;
    return;
  }
  $("pw-ok").disabled = true;
  try {
    await api.patch(`/halls/${encodeURIComponent(HALL)}/staff/${resetting.id}`, { password });
    $("pw-dialog").close();
    toast(`已重置 ${resetting.name} 的密码，请将新密码告知本人`, "ok");
    if (resetting.username === staff.username) setTimeout(() => { window.location.href = "/login?next=/manage/"; }, 1500);
  } catch (e) {
    $("pw-error").textContent = errorText(e);
    $("pw-error").hidden = false;
  } finally {
    $("pw-ok").disabled = false;
  }
}

async function staffAction(row, act) {
  const s = state.staff.find((x) => String(x.id) === row.dataset.staff);
  if (!s) return;
  if (act === "edit") return openStaffDialog(s);
  if (act === "password") return openPasswordDialog(s);
  const active = act === "activate";
  if (!active && !(await confirmBox({ title: `停用账号 ${s.username}`, ok: "停用",
    text: `停用后 ${s.name} 将无法登录，已登录的会话立即失效。可随时重新启用。` }))) return undefined;
  try {
    await api.patch(`/halls/${encodeURIComponent(HALL)}/staff/${s.id}`, { active });
    toast(`${s.name}（${s.username}）已${active ? "启用" : "停用"}`, "ok");
    await loadStaff();
  } catch (e) {
    apiError(e);
  }
  return undefined;
}

function wireStaff() {
  $("staff-new").addEventListener("click", () => openStaffDialog());
  $("staff-form").addEventListener("submit", submitStaff);
  $("pw-form").addEventListener("submit", submitPassword);
  $("staff-search").addEventListener("input", renderStaff);
  $("staff-role-filter").addEventListener("change", renderStaff);
  $("staff-rows").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act]");
    if (btn) staffAction(btn.closest("tr"), btn.dataset.act);
  });
}

// ================================================================== 设备令牌
async function loadDevices() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/devices`);
    state.devices = (data.devices || []).sort((a, b) => b.id - a.id);
    renderDevices();
    renderAudit();
  } catch (e) {
    apiError(e);
  }
}

function renderDevices() {
  const showRevoked = $("dev-show-revoked").checked;
  const active = state.devices.filter((d) => !d.revoked_at).length;
  $("dev-count").textContent = `${active} 台有效 / 共 ${state.devices.length}`;
  $("nav-devices").textContent = active ? String(active) : "";
  $("dev-rows").innerHTML = state.devices.filter((d) => showRevoked || !d.revoked_at).map((d) => `
    <tr data-device="${d.id}" class="${d.revoked_at ? "inactive" : ""}">
      <td class="num">#${d.id}</td>
      <td><span class="tag dev-${esc(d.kind)}">${esc(DEVICE[d.kind] || d.kind)}</span></td>
      <td>${esc(d.name)}</td>
      <td class="num">${fmtDateTime(d.created_at)}</td>
      <td>${d.revoked_at ? `<span class="dim">—</span>` : esc(ago(d.last_seen_at))}</td>
      <td>${d.revoked_at ? `<span class="pill st-off" title="${fmtDateTime(d.revoked_at)}">已注销 ${fmtDateTime(d.revoked_at).slice(5, 16)}</span>` : `<span class="pill st-on">有效</span>`}</td>
      <td class="r acts">${d.revoked_at ? "" : `<button class="btn btn-sm btn-ghost-danger" type="button" data-act="revoke">注销</button>`}</td>
    </tr>`).join("") || `<tr><td colspan="7" class="empty">尚未签发设备令牌</td></tr>`;
}

function usageOf(kind) {
  const origin = window.location.origin;
  if (kind === "kiosk") return `用法：在自助终端运行 govhall kiosk --server ${origin} --token <令牌>`;
  if (kind === "display") return "用法：配置到显示屏的启动参数中（如 systemd 单元的令牌设置）。";
  return "用法：配置到好差评评价器的启动参数中。";
}

async function issueDevice(ev) {
  ev.preventDefault();
  const kind = $("dev-kind").value;
  const name = $("dev-name").value.trim();
  if (!name) { toast("请填写设备名称，便于日后识别和注销", "error"); $("dev-name").focus(); return; }
  $("dev-issue").disabled = true;
  try {
    const d = await api.post(`/halls/${encodeURIComponent(HALL)}/devices`, { kind, name });
    $("dev-name").value = "";
    $("tk-device").textContent = `#${d.id} · ${DEVICE[d.kind] || d.kind} · ${d.name}`;
    $("token-value").value = d.token;
    $("tk-use").textContent = usageOf(d.kind);
    $("tk-copied").textContent = "";
    $("token-dialog").showModal();
    $("token-value").select();
    toast(`已签发「${d.name}」的设备令牌`, "ok");
  } catch (e) {
    apiError(e);
  } finally {
    $("dev-issue").disabled = false;
  }
}

async function copyToken() {
  const input = $("token-value");
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.select();
    try { ok = document.execCommand("copy"); } catch { ok = false; }
  }
  $("tk-copied").textContent = ok ? "✓ 已复制到剪贴板" : "无法自动复制，请选中令牌后按 Ctrl+C";
  $("tk-copied").className = `grow ${ok ? "ok" : "bad"}`;
}

async function revokeDevice(row) {
  const d = state.devices.find((x) => String(x.id) === row.dataset.device);
  if (!d) return;
  const ok = await confirmBox({ title: `注销设备令牌 #${d.id}`, ok: "注销令牌",
    text: `注销后「${d.name}」（${DEVICE[d.kind] || d.kind}）立即无法连接服务器，此操作不可撤销；恢复使用需重新签发令牌。` });
  if (!ok) return;
  try {
    await api.del(`/halls/${encodeURIComponent(HALL)}/devices/${d.id}`);
    toast(`已注销「${d.name}」的设备令牌`, "ok");
  } catch (e) {
    apiError(e);
  }
  await loadDevices();
}

function wireDevices() {
  $("dev-form").addEventListener("submit", issueDevice);
  $("token-copy").addEventListener("click", copyToken);
  $("dev-show-revoked").addEventListener("change", renderDevices);
  $("dev-rows").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act='revoke']");
    if (btn) revokeDevice(btn.closest("tr"));
  });
}

// ================================================================== 审计日志
async function loadAudit() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/audit?limit=300`);
    state.audit = data.entries || [];
    renderAudit();
  } catch (e) {
    apiError(e);
  }
}

function actorText(actor) {
  const [kind, ...rest] = String(actor || "").split(":");
  const who = rest.join(":");
  if (kind === "staff") {
    const s = state.staff.find((x) => x.username === who);
    return s ? `${esc(s.name)} <small class="mono">${esc(who)}</small>` : `<span class="mono">${esc(who)}</span>`;
  }
  if (kind === "device") {
    const d = state.devices.find((x) => String(x.id) === who);
    return `设备 #${esc(who)}${d ? ` <small>${esc(d.name)}</small>` : ""}`;
  }
  if (kind === "login") return `<span class="mono">${esc(who)}</span> <small>（未登录）</small>`;
  if (kind === "cli") return "系统 <small>命令行</small>";
  if (kind === "system") return "系统";
  return esc(actor);
}

function targetText(target) {
  if (!target) return `<span class="dim">—</span>`;
  const [kind, ...rest] = String(target).split(":");
  const id = rest.join(":");
  if (kind === "window") {
    const w = windows().find((x) => String(x.number) === id);
    return `${esc(id)}号窗口${w ? ` <small>${esc(w.name)}</small>` : ""}`;
  }
  if (kind === "staff") {
    const s = state.staff.find((x) => x.username === id);
    return `工作人员 ${s ? esc(s.name) : ""} <small class="mono">${esc(id)}</small>`;
  }
  if (kind === "device") {
    const d = state.devices.find((x) => String(x.id) === id);
    return `设备 #${esc(id)}${d ? ` <small>${esc(d.name)}</small>` : ""}`;
  }
  if (kind === "ticket") return `号码 <b>${esc(id)}</b>`;
  if (kind === "hall") return `大厅 ${esc(id)}`;
  if (kind === "application") return `办件 ${esc(id)}`;
  if (kind === "followup") return `差评回访 #${esc(id)}`;
  return esc(target);
}

function bundleList(codes, ranks) {
  const names = codes.map((c) => `${shortName(state.catalogue.get(c)?.name || c)}${ranks ? `（${rankLabel(ranks[c])}）` : ""}`);
  return names.length > 6 ? `${names.slice(0, 6).join("、")} 等 ${names.length} 项` : names.join("、");
}

function detailText(entry) {
  const d = entry.detail;
  if (!d) return `<span class="dim">—</span>`;
  if (entry.action === "window.allocation" && d.before && d.after) {
    const { added, removed, changed } = diffOf(new Map(Object.entries(d.before)), new Map(Object.entries(d.after)));
    const parts = [];
    if (added.length) parts.push(`<span class="d-add">新增 ${esc(bundleList(added, d.after))}</span>`);
    if (removed.length) parts.push(`<span class="d-del">移除 ${esc(bundleList(removed))}</span>`);
    if (changed.length) parts.push(`<span class="d-chg">调整 ${changed.map((c) => esc(`${shortName(state.catalogue.get(c)?.name || c)} ${rankLabel(d.before[c])}→${rankLabel(d.after[c])}`)).join("、")}</span>`);
    return parts.join("；") || "分配未变化";
  }
  if (entry.action === "staff.update" && Array.isArray(d.fields)) {
    return `修改了 ${d.fields.map((f) => esc(FIELD[f] || f)).join("、")}`;
  }
  if (entry.action === "staff.create") {
    return `角色 ${esc(ROLE[d.role] || d.role || "")}${d.window ? `，座席 ${esc(d.window)}号窗口` : ""}`;
  }
  if (entry.action === "device.issue") return `${esc(DEVICE[d.kind] || d.kind || "")} 「${esc(d.name || "")}」`;
  return Object.entries(d).map(([k, v]) => `${esc(FIELD[k] || k)}：${esc(typeof v === "object" ? JSON.stringify(v) : v)}`).join("；");
}

const CATEGORY = { window: ["window."], staff: ["staff."], device: ["device."], auth: ["auth."] };
function inCategory(action, cat) {
  if (!cat) return true;
  if (cat === "other") return !Object.values(CATEGORY).flat().some((p) => action.startsWith(p));
  return CATEGORY[cat].some((p) => action.startsWith(p));
}

function renderAudit() {
  if (!state.audit.length && state.view !== "audit") return;
  const q = $("audit-search").value.trim().toLowerCase();
  const rows = state.audit.filter((e) => inCategory(e.action, state.auditFilter)).map((e) => {
    const [label, tone] = ACTION[e.action] || [e.action, ""];
    return { e, label, tone, actor: actorText(e.actor), target: targetText(e.target), detail: detailText(e) };
  }).filter((r) => !q || `${r.label} ${r.actor} ${r.target} ${r.detail} ${r.e.actor}`.toLowerCase().includes(q));
  $("audit-note").textContent = state.audit.length ? `最近 ${state.audit.length} 条，显示 ${rows.length} 条` : "";
  $("audit-rows").innerHTML = rows.map((r) => `<tr data-action="${esc(r.e.action)}">
      <td class="num nowrap">${fmtDateTime(r.e.at)}</td>
      <td class="nowrap">${r.actor}</td>
      <td class="nowrap"><span class="tag${r.tone ? ` tag-${r.tone}` : ""}" title="${esc(r.e.action)}">${esc(r.label)}</span></td>
      <td class="nowrap">${r.target}</td>
      <td class="detail">${r.detail}</td></tr>`).join("") || `<tr><td colspan="5" class="empty">没有符合条件的记录</td></tr>`;
}

function wireAudit() {
  $("audit-refresh").addEventListener("click", loadAudit);
  $("audit-search").addEventListener("input", renderAudit);
  $("audit-filter").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-filter]");
    if (!btn) return;
    state.auditFilter = btn.dataset.filter;
    for (const b of $("audit-filter").children) b.setAttribute("aria-pressed", String(b === btn));
    renderAudit();
  });
  setInterval(() => { if (state.view === "audit" && !document.hidden) loadAudit(); }, AUDIT_MS);
}

// ================================================================== views, header, start
const VIEWS = ["live", "alloc", "staff", "devices", "audit", "followup", "reports"]; // the last two: manage-quality.js
function showView(name) {
  const view = VIEWS.includes(name) ? name : "live";
  state.view = view;
  for (const section of document.querySelectorAll(".m-view")) section.hidden = section.dataset.view !== view;
  for (const link of document.querySelectorAll(".m-nav a[data-view]")) {
    link.setAttribute("aria-selected", String(link.dataset.view === view));
  }
  document.body.dataset.view = view;
  $("main").scrollTop = 0;
  if (view === "staff") loadStaff();
  if (view === "devices") loadDevices();
  if (view === "audit") loadAudit();
  if (view === "alloc") renderAlloc();
  document.dispatchEvent(new CustomEvent("manage:view", { detail: view }));
}

function setConnection(online) {
  const conn = $("conn");
  conn.dataset.state = online ? "online" : "offline";
  $("conn-text").textContent = online ? "实时连接正常" : "连接中断，重连中…";
}

function wireLive() {
  $("windows").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act]");
    if (btn) windowAction(btn.closest(".win"), btn.dataset.act);
  });
  $("win-filter").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-filter]");
    if (!btn) return;
    state.winFilter = btn.dataset.filter;
    for (const b of $("win-filter").children) b.setAttribute("aria-pressed", String(b === btn));
    renderWindows(windows());
  });
}

function restoreCatalogue() {
  try {
    const saved = JSON.parse(localStorage.getItem(`govhall.manage.catalogue.${HALL}`) || "[]");
    for (const b of saved) if (b?.code) state.catalogue.set(b.code, b);
  } catch { /* a broken entry is relearned from the live data */ }
}

async function loadCatalogue() {
  // every bundle of the catalogue, served by a window here or not, so the editor can offer it again
  try {
    const { bundles } = await api.get("/bundles");
    for (const b of bundles) if (!state.catalogue.has(b.code)) state.catalogue.set(b.code, b);
  } catch { /* the live data and the saved list still name the bundles in use */ }
}

function start() {
  restoreCatalogue();
  loadCatalogue();
  wireDialogs();
  wireLive();
  wireAlloc();
  wireStaff();
  wireDevices();
  wireAudit();
  clock($("clock"));
  window.addEventListener("hashchange", () => showView(window.location.hash.slice(1)));
  showView(window.location.hash.slice(1) || "live");
  if (state.view !== "staff") loadStaff(); // names for the audit log and the nav counts
  if (state.view !== "devices") loadDevices();

  const socket = connectScreen({
    hall: HALL, screen: "manager", token: staff.token,
    onStale: (stale) => setConnection(!stale && socket.connected),
    handlers: {
      snapshot: (data) => applyLive(data),
      queue_updated: onQueueUpdated,
      window_updated: onWindowUpdated,
      ticket_called: onTicketCalled,
      error: (error) => {
        // refused: the login behind the token ended (password reset, account stopped, expired)
        if (error?.code === "forbidden") apiError({ status: 401 });
        else toast(error?.message || "实时连接订阅失败", "error");
      },
    },
  });
  socket.on("connect", () => setConnection(true));
  socket.on("disconnect", () => setConnection(false));
  socket.on("connect_error", () => setConnection(false));
  setInterval(() => { if (!document.hidden) refreshSoon(); }, PERIODIC_MS);
  setInterval(() => { if (state.view === "live") renderCalls(); }, 60000);
}

start();
