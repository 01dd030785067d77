// The hall display (1920x1080, read from 5 m): the latest call huge, the previous calls, waits per
// bundle (paged), the hall's notice, and the spoken call. Public data only: numbers, windows, waits.
// ?voice=0 keeps a second screen of the same hall silent (two screens talking over each other).
import { createAnnouncer } from "./announcer.js";
import { clock, connectScreen, esc } from "./live.js";
import { priorityBadge, waitRange } from "./waits.js";

const RECENT_SHOWN = 6;
const PAGE_MS = 9000;
const FLASH_MS = 6000;
const ROW_PX = 80; // one bundle row with its spacing (display.css .waits td height + border-spacing)

const $ = (id) => document.getElementById(id);

/** Bundle names on the big screen: "一件事" is in the column title, and the part in brackets is
 * detail a passer-by does not need. */
function shortName(name) {
  return String(name || "").replace(/（[^）]*）|\([^)]*\)/g, "").replace(/一件事$/, "");
}

function renderNow(call) {
  if (!call) {
    return `<div class="now-empty">请留意叫号<small>叫到您的号码时，请到对应窗口办理</small></div>`;
  }
  return `<div class="now-number num" id="call-number">${esc(call.ticket.number)}</div>
    <div class="now-window">请到<span class="win num" id="call-window">${esc(call.window.number)}号窗口</span>办理</div>`;
}

function renderTags(call) {
  if (!call) return "";
  const recall = call.recall ? `<span class="badge-recall">再次呼叫</span>` : "";
  return `${priorityBadge(call.ticket.priority)}${recall}`;
}

function renderRecent(calls) {
  const seen = new Set(calls.length ? [calls[0].ticket.number] : []);
  const rows = [];
  for (const c of calls.slice(1)) {
    if (seen.has(c.ticket.number)) continue; // a recall shows once, at its newest place
    seen.add(c.ticket.number);
    rows.push(c);
    if (rows.length >= RECENT_SHOWN) break;
  }
  if (!rows.length) return `<li class="none" style="background:none">暂无更早的叫号</li>`;
  return rows.map((c) => `<li class="${c.ticket.priority !== "none" ? "priority" : ""}" data-number="${esc(c.ticket.number)}">
      <span class="n num">${esc(c.ticket.number)}</span><span class="arrow">→</span>
      <span class="w num">${esc(c.window.number)}号窗口</span>${c.ticket.priority !== "none" ? `<span class="badge-priority">优先</span>` : ""}</li>`).join("");
}

function renderBundleRows(bundles) {
  return bundles.map((b) => {
    const r = waitRange(b.wait_min, b.waiting, b.wait_range);
    const cls = r.level === "x" ? "none" : r.text === "无需等候" ? "zero" : "";
    const eta = r.level === "x" ? "暂无窗口" : r.text;
    return `<tr data-bundle="${esc(b.code)}"><td><span class="letter">${esc(b.prefix)}</span></td>
      <td class="name">${esc(shortName(b.name))}</td>
      <td class="c count num">${esc(b.waiting)}<small>人</small></td>
      <td class="eta ${cls}">${esc(eta)}</td></tr>`;
  }).join("");
}

function startMarquee(track, scroller, text) {
  scroller.classList.remove("moving");
  scroller.textContent = text;
  if (scroller.scrollWidth <= track.clientWidth) return;
  const gap = "\u3000".repeat(6);
  scroller.innerHTML = `${esc(text)}${gap}${esc(text)}${gap}`;
  scroller.style.setProperty("--marquee-s", `${Math.max(12, scroller.scrollWidth / 2 / 110)}s`);
  scroller.classList.add("moving");
}

export function startHall({ hall }) {
  const params = new URLSearchParams(window.location.search);
  const announcer = createAnnouncer({
    textEl: $("speaking"), unlockEl: $("voice-unlock"), voice: params.get("voice") !== "0",
  });
  let calls = [];
  let bundles = [];
  let page = 0;
  let notice = null;
  let flashTimer = null;

  const paint = () => {
    $("now-call").innerHTML = renderNow(calls[0]);
    $("now-tags").innerHTML = renderTags(calls[0]);
    $("recent").innerHTML = renderRecent(calls);
  };

  const pages = () => {
    const panel = document.querySelector(".waits");
    const body = $("bundles");
    const free = panel.clientHeight - (body.parentElement.offsetTop - panel.offsetTop) - 110;
    const fit = Math.max(4, Math.floor(free / ROW_PX));
    const count = Math.max(1, Math.ceil(bundles.length / fit));
    return { count, per: Math.ceil(bundles.length / count) || 1 };
  };

  const paintBundles = (turn = false) => {
    const { count, per } = pages();
    page %= count;
    const body = $("bundles");
    body.innerHTML = renderBundleRows(bundles.slice(page * per, page * per + per));
    body.classList.remove("turn");
    if (turn) { void body.offsetWidth; body.classList.add("turn"); }
    $("pager").innerHTML = count > 1
      ? Array.from({ length: count }, (_, i) => `<i class="${i === page ? "on" : ""}"></i>`).join("") : "";
  };

  const paintHall = (info) => {
    if (!info) return;
    $("hall-name").textContent = info.name;
    if (info.notice !== notice) {
      notice = info.notice;
      startMarquee(document.querySelector(".notice-bar .track"), $("notice"), notice || "");
    }
  };

  const flash = () => {
    const now = $("now");
    now.classList.remove("flash");
    void now.offsetWidth; // restart the animation for a call right after another
    now.classList.add("flash");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => now.classList.remove("flash"), FLASH_MS);
  };

  connectScreen({
    hall, screen: "hall",
    handlers: {
      snapshot(data) {
        paintHall(data.hall);
        calls = data.recent_calls || [];
        bundles = data.bundles || [];
        paint();
        paintBundles();
        document.body.dataset.ready = "1";
      },
      ticket_called(data) {
        calls = [data, ...calls].slice(0, 40);
        paint();
        flash();
        announcer.announce(data);
      },
      queue_updated(data) {
        bundles = data.bundles || bundles;
        paintBundles();
      },
    },
  });
  clock($("clock"));
  setInterval(() => {
    if (pages().count < 2) return;
    page += 1;
    paintBundles(true);
  }, PAGE_MS);
  window.addEventListener("resize", () => paintBundles());
}
