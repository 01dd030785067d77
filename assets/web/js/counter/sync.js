// The window's state from the server: snapshots and events apply at once, GET …/screen at most
// once per 1.5 s however busy the hall is; a refresh started before an action is dropped.
import { render } from "./render.js";
import { $, api, memoOf, QUEUE_COUNT, saveMemo, state, toast } from "./state.js";

const REFRESH_MS = 1500; // at most one waiting-line refresh per 1.5 s however busy the hall is

export function apply(data) {
  if (data.hall?.name) $("hall-name").textContent = data.hall.name;
  if (Number.isInteger(data.hall?.recall_limit)) state.recallLimit = data.hall.recall_limit;
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
export function refreshSoon(delay = null) {
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
