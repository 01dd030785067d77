// 大厅实况: tiles, waits per 一件事 with long waits marked, every window's state with open/close and
// pause/resume, recent calls. Live events apply at once; GET …/live (longest waits, served today)
// follows at most once per 2 s after them.
import { esc } from "../live.js";
import { calibrationText } from "../waits.js";
import { renderAlloc, syncEditorFrom } from "./alloc.js";
import { AMBER_MIN, fmtTime, level, waitText } from "./format.js";
import { $, api, bundleOf, HALL, KIND_CLASS, learnCatalogue, RANK, shortName, STATE, state, windows, windowState } from "./state.js";
import { apiError, confirmBox, toast } from "./ui.js";

const REFRESH_MS = 2000;

const CALLS_SHOWN = 12;

export function applyLive(data) {
  if (!data || !Array.isArray(data.windows)) return;
  state.live = { ...(state.live || {}), ...data };
  learnCatalogue();
  renderHall();
  renderLive();
  renderAlloc();
  document.body.dataset.ready = "1";
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
  if (live.calibration) $("calibration").textContent = `预计等候准确度 · ${calibrationText(live.calibration)}`;
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

export function renderCalls() {
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
export function refreshSoon() {
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

export function onQueueUpdated(data) {
  if (!state.live || !Array.isArray(data.bundles)) return;
  const old = new Map((state.live.bundles || []).map((b) => [b.code, b]));
  state.live.bundles = data.bundles.map((b) => ({ longest_wait_min: old.get(b.code)?.longest_wait_min || 0, ...b }));
  state.live.waiting_total = state.live.bundles.reduce((n, b) => n + (b.waiting || 0), 0);
  learnCatalogue();
  renderLive();
  renderAlloc();
  refreshSoon();
}

export function onWindowUpdated(data) {
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

export function onTicketCalled(data) {
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

export function wireLive() {
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
