// The clerk's counter console (/counter/): one window's current ticket and its actions (buttons and
// F1–F5), the 一次告知 material checklist of the ticket's bundle, who waits for the window (live over
// Socket.IO) and this shift's no-shows with 重新排队. Managers pick the window they act for. This
// module wires keys and buttons and starts the live connection.
import { clock, connectScreen } from "../live.js";
import { act, requeue } from "./actions.js";
import { toggleMaterial } from "./notice.js";
import { render, renderNoShows, renderTime } from "./render.js";
import { $, isClerk, staff, state, store, toast } from "./state.js";
import { apply, refreshSoon } from "./sync.js";
import { openTransfer, pickWindow, selectTab, submitTransfer } from "./transfer.js";

const KEYS = { F1: "call-next", F2: "recall", F3: "no-show", F4: "start", F5: "finish" };

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
