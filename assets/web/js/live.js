// Live connection of a screen to the server's /hall Socket.IO namespace.
// - subscribes on every (re)connect and gets a fresh snapshot, so a screen recovers by itself
//   after a network cut or a server restart;
// - heartbeat: asks the server every few seconds; no answer in time marks the page stale;
// - reloads itself when the server's version changes (new pages deployed).
/* global io */

const HEARTBEAT_MS = 5000;
const STALE_AFTER_MS = 12000;

export function connectScreen({ hall, screen, token, handlers, onStale }) {
  const auth = token ? { token } : {};
  const socket = io("/hall", { transports: ["websocket", "polling"], auth, reconnectionDelayMax: 5000 });
  const version = document.querySelector('meta[name="govhall-version"]')?.content;
  let lastSeen = Date.now();
  let stale = false;

  const setStale = (value) => {
    if (value === stale) return;
    stale = value;
    document.body.classList.toggle("stale", stale);
    if (onStale) onStale(stale);
  };
  const seen = (serverVersion) => {
    lastSeen = Date.now();
    setStale(false);
    if (version && serverVersion && serverVersion !== version) {
      window.location.reload();
    }
  };

  socket.on("connect", () => {
    socket.emit("subscribe", { hall, screen }, (answer) => {
      if (answer && !answer.ok && handlers.error) handlers.error(answer.error);
    });
  });
  socket.on("snapshot", (data) => { seen(data.version); handlers.snapshot?.(data); });
  for (const name of ["ticket_called", "queue_updated", "window_updated"]) {
    socket.on(name, (data) => { lastSeen = Date.now(); setStale(false); handlers[name]?.(data); });
  }
  socket.on("disconnect", () => setStale(true));

  setInterval(() => {
    if (socket.connected) {
      socket.timeout(HEARTBEAT_MS).emit("heartbeat", {}, (err, answer) => {
        if (!err && answer) seen(answer.version);
      });
    }
    if (Date.now() - lastSeen > STALE_AFTER_MS) setStale(true);
  }, HEARTBEAT_MS);
  return socket;
}

export function clock(el) {
  const tick = () => {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    const days = "日一二三四五六";
    el.textContent = `${now.getFullYear()}年${now.getMonth() + 1}月${now.getDate()}日 星期${days[now.getDay()]} ` +
      `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  };
  tick();
  setInterval(tick, 1000);
}

export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
