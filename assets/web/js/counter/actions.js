// The clerk's actions (call next, recall, no-show, start, finish, pause, resume) and 重新排队.
import { loadNotice } from "./notice.js";
import { render, renderActions, renderNoShows } from "./render.js";
import { allowed, api, apiError, memoOf, saveMemo, state, store, toast } from "./state.js";
import { refreshSoon } from "./sync.js";

const DONE = { "call-next": "已叫号", recall: "已重呼", "no-show": "已标记过号", start: "开始办理",
  finish: "已办结", pause: "窗口已暂停叫号", resume: "窗口已恢复叫号" };

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

export async function act(action, body) {
  if (!allowed(action)) return;
  state.busy = action;
  state.seq += 1;
  renderActions();
  try {
    afterAction(action, await api.post(`/windows/${state.windowId}/${action}`, body));
  } catch (e) {
    if (e.code === "recall_limit_reached" && state.win?.current) memoOf(state.win.current.number).recalls = state.recallLimit;
    apiError(e);
  } finally {
    state.busy = null;
    state.seq += 1;
    render();
    refreshSoon(0);
  }
}

export async function requeue(id) {
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
