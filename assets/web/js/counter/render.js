// The current ticket, the action buttons, who waits for this window and this shift's no-shows.
import { esc } from "../live.js";
import { priorityLabel } from "../waits.js";
import { renderNotice } from "./notice.js";
import { $, allowed, memoOf, QUEUE_COUNT, state } from "./state.js";

const mmss = (ms) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};

export function renderTime() {
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
    tags.push(`<span class="tag ${n >= state.recallLimit ? "tag-red" : n ? "tag-amber" : ""}" id="t-recall">重呼 ${n}/${state.recallLimit}</span>`);
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

export function renderActions() {
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
    ? (recalls >= state.recallLimit ? `已呼满 ${state.recallLimit} 次，请过号` : `已重呼 ${recalls}/${state.recallLimit}`) : "再次呼叫";
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

export function renderNoShows() {
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

export function render() {
  renderHeader();
  renderTicket();
  renderActions();
  renderQueue();
  renderNotice();
}
