// The screen above one window (1280x720, 1920x540…): the window, the number served now, the next few,
// paused/closed shown plainly, and the bundles the window serves (re-rendered on allocation changes).
// The hall screen speaks the calls; ?voice=1 makes this screen speak its own window's calls too.
import { createAnnouncer } from "./announcer.js";
import { api } from "./api.js";
import { connectScreen, esc } from "./live.js";
import { priorityLabel } from "./waits.js";

const NEXT_COUNT = 4;
const REFRESH_MS = 2000; // at most one "next" refresh per 2 s however busy the hall is
const FLASH_MS = 6000;

const $ = (id) => document.getElementById(id);

function stateLine(current) {
  if (!current) return "";
  const badge = priorityLabel(current.priority)
    ? `<span class="badge-priority">${esc(priorityLabel(current.priority))}</span> ` : "";
  const words = current.status === "serving" ? "正在为您办理" : "请到本窗口办理";
  return `${badge}${words}`;
}

function nextItems(next) {
  if (!next.length) return `<li class="none" style="background:none">暂无等候</li>`;
  return next.slice(0, NEXT_COUNT).map((t) => {
    const tags = [t.transferred ? "转入" : "", priorityLabel(t.priority) ? "优先" : ""].filter(Boolean)
      .map((x) => `<span class="badge-priority">${x}</span>`).join(" ");
    return `<li data-number="${esc(t.number)}"><span class="num">${esc(t.number)}</span><span>${tags}</span></li>`;
  }).join("");
}

/** Time only: the header of a small screen has no room for the date. */
function timeClock(el) {
  const tick = () => {
    const d = new Date();
    el.textContent = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  };
  tick();
  setInterval(tick, 5000);
}

function fillMarquee(track, scroller, html) {
  scroller.classList.remove("moving");
  scroller.innerHTML = html;
  if (scroller.scrollWidth <= track.clientWidth) return;
  scroller.innerHTML = `${html}${html}`;
  scroller.style.setProperty("--marquee-s", `${Math.max(10, scroller.scrollWidth / 2 / 90)}s`);
  scroller.classList.add("moving");
}

export function startWindow({ hall, window: windowId }) {
  const params = new URLSearchParams(window.location.search);
  const announcer = params.get("voice") === "1"
    ? createAnnouncer({ textEl: $("speaking"), unlockEl: $("voice-unlock") }) : null;
  let win = null;
  let next = [];
  let appliedAt = 0;
  let shownNumber = null;
  let bundlesKey = null;
  let flashTimer = null;

  const flash = () => {
    const box = $("serving");
    box.classList.remove("flash");
    void box.offsetWidth;
    box.classList.add("flash");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => box.classList.remove("flash"), FLASH_MS);
  };

  const render = () => {
    if (!win) return;
    $("win-number").textContent = `${win.number}号窗口`;
    $("win-name").textContent = win.name;
    $("win-kind").textContent = win.kind && !String(win.name).includes(win.kind) ? win.kind : "";
    document.title = `${win.number}号窗口 · ${win.name}`;

    const box = $("serving");
    const closed = !win.open;
    const paused = win.open && win.paused;
    box.classList.toggle("closed", closed);
    box.classList.toggle("paused", paused);
    $("cover-title").textContent = closed ? "窗口关闭" : paused ? "暂停服务" : "";
    $("cover-text").textContent = closed ? "本窗口暂不对外办理，请留意大厅叫号屏"
      : paused ? "工作人员暂时离开，请稍候" : "";
    document.body.dataset.state = closed ? "closed" : paused ? "paused" : "open";

    const current = win.current;
    const el = $("current");
    el.textContent = current ? current.number : "—";
    el.classList.toggle("idle", !current);
    $("state").innerHTML = current ? stateLine(current) : "等候叫号";
    if (current && current.number !== shownNumber && shownNumber !== undefined) flash();
    shownNumber = current ? current.number : null;

    $("next").innerHTML = nextItems(next);

    const key = JSON.stringify(win.bundles || []);
    if (key !== bundlesKey) {
      bundlesKey = key;
      const html = (win.bundles || []).map((b) => `<span class="b rank${b.rank > 1 ? 2 : 1}" data-bundle="${esc(b.code)}">${esc(b.name)}</span>`).join("")
        || `<span class="b">暂未分配办理事项</span>`;
      fillMarquee(document.querySelector(".served-by .track"), $("bundles"), html);
    }
  };

  // a screen's data is applied only if it is not older than what is already shown
  const apply = (data, { force = false } = {}) => {
    const at = Date.parse(data.at || "") || Date.now();
    if (!force && at < appliedAt) return;
    appliedAt = at;
    if (data.window) win = data.window;
    if (Array.isArray(data.next)) next = data.next;
    render();
    document.body.dataset.ready = "1";
  };

  let lastFetch = 0;
  let timer = null;
  const refresh = () => {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      lastFetch = Date.now();
      try {
        apply(await api().get(`/windows/${windowId}/screen?count=${NEXT_COUNT}`));
      } catch (e) {
        // the socket will bring the next state; the stale mark covers a real outage
      }
    }, Math.max(0, lastFetch + REFRESH_MS - Date.now()));
  };

  shownNumber = undefined; // no flash for what is already on screen when the page opens
  connectScreen({
    hall, screen: `window:${windowId}`,
    handlers: {
      snapshot: (data) => apply(data, { force: true }),
      window_updated: (data) => { if (data.window && data.window.id === windowId) apply(data); },
      queue_updated: refresh,
      ticket_called: (data) => {
        if (!data.window || data.window.id !== windowId || !win) return;
        win = { ...win, current: { ...data.ticket, status: "called" } };
        render();
        if (data.recall) flash();
        if (announcer) announcer.announce(data);
      },
    },
  });
  timeClock($("clock"));
}
