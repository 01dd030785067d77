// The manager's console (/manage/): the hall live, the window allocation editor and matrix, staff
// accounts, device tokens (shown once) and the audit log in plain Chinese; this module shows the
// views and starts everything. Live over Socket.IO (screen "manager"); longest waits and the day's
// count come from GET …/live, fetched at most once per 2 s after events and every 30 s (waits grow
// while nothing happens). Other views (manage-quality.js, …) listen for "manage:view".
import { clock, connectScreen } from "../live.js";
import { renderAlloc, wireAlloc } from "./alloc.js";
import { loadAudit, wireAudit } from "./audit.js";
import { loadDevices, wireDevices } from "./devices.js";
import { applyLive, onQueueUpdated, onTicketCalled, onWindowUpdated, refreshSoon, renderCalls, wireLive } from "./hall.js";
import { loadStaff, wireStaff } from "./staff.js";
import { $, HALL, loadCatalogue, restoreCatalogue, staff, state } from "./state.js";
import { apiError, toast, wireDialogs } from "./ui.js";

const PERIODIC_MS = 30000;

// the views are the page's sections: a view added to manage.html (and its own module) needs no change here
const VIEWS = [...document.querySelectorAll(".m-view[data-view]")].map((section) => section.dataset.view);
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
