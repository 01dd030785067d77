// The counter console's shared state: who is logged in, the window's live state, the per-tab memory
// of tickets (recalls, times, materials received) and no-shows, toasts, and which actions make sense now.
import { api as makeApi } from "../api.js";
import { toaster } from "../toasts.js";

export const QUEUE_COUNT = 20;

export const $ = (id) => document.getElementById(id);
export const staff = JSON.parse($("staff-data").textContent);
export const api = makeApi(staff.token);
export const isClerk = staff.role === "clerk";

// per-tab memory: survives a reload (F5 is a shortcut, but a crash or a manual reload happens)
export const store = {
  get: (key, fallback) => {
    try { return JSON.parse(sessionStorage.getItem(`govhall.counter.${key}`)) ?? fallback; } catch { return fallback; }
  },
  set: (key, value) => sessionStorage.setItem(`govhall.counter.${key}`, JSON.stringify(value)),
};

export const state = {
  windowId: isClerk ? staff.window?.id ?? null : store.get("window", null),
  hall: staff.hall,
  recallLimit: 3,           // the demo hall's limit, or hall.recall_limit when the server sends it (409 past it)
  win: null,
  next: [],
  busy: null,               // the action in flight
  seq: 0,                   // bumped by each action: refreshes started before it are dropped
  notices: new Map(),       // bundle code -> one-time notice
  memo: store.get("memo", {}),       // ticket number -> {recalls, calledAt, startedAt, got: [material codes]}
  noShows: store.get("noshows", []), // [{id, number, bundle_name, at, requeued}]
};

export const toast = toaster({ keep: 3, okMs: 2500 });

export function apiError(e) {
  toast(e.message || "操作失败", "error");
  if (e.status === 401) setTimeout(() => { window.location.href = "/login?next=/counter/"; }, 2000);
}

export function memoOf(number) {
  if (!number) return {};
  if (!state.memo[number]) {
    state.memo[number] = { recalls: 0, calledAt: Date.now(), startedAt: null, got: [] };
    const numbers = Object.keys(state.memo);
    if (numbers.length > 60) delete state.memo[numbers[0]]; // bounded: a shift, not a history
  }
  return state.memo[number];
}
export const saveMemo = () => store.set("memo", state.memo);

export function allowed(action) {
  const w = state.win;
  if (!w || state.busy) return false;
  const status = w.current?.status;
  switch (action) {
    case "call-next": return w.open && !w.paused && (!w.current || status === "serving");
    case "recall": return status === "called" && memoOf(w.current.number).recalls < state.recallLimit;
    case "no-show": case "start": return status === "called";
    case "finish": case "transfer": return status === "called" || status === "serving";
    case "pause": return w.open && !w.paused;
    case "resume": return w.open && w.paused;
    default: return false;
  }
}
