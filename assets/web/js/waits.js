// Public live waits (/w/<hall>), phone first: each bundle's people waiting and an honest wait range,
// the opening hours and when the figures were last updated, live over Socket.IO (screen "hall").
// Also the wording of waits and priorities that the other screens share (no side effects on import).
import { connectScreen, esc } from "./live.js";

const PRIORITY = { elderly: "老年人优先", disabled: "残疾人优先", appointment: "预约优先" };

/** 绿色通道 label of a ticket's priority ("" for none). */
export function priorityLabel(priority) {
  return PRIORITY[priority] || "";
}

export function priorityBadge(priority) {
  const label = priorityLabel(priority);
  return label ? `<span class="badge-priority">${esc(label)}</span>` : "";
}

/** How the hall's quoted waits held (the public waits page and the manager console say it alike). */
export function calibrationText(c) {
  if (!c) return "";
  if (c.mode === "calibrating" || c.within_share === null || c.within_share === undefined) {
    return c.median_error_min === null || c.median_error_min === undefined
      ? "预计等候时间正在积累数据，仅供参考"
      : `近${c.days}天预计等候的中位误差 ${Math.round(c.median_error_min)} 分钟（数据积累中，仅供参考）`;
  }
  const share = Math.round(c.within_share * 100);
  const base = `近${c.days}天：${share}% 在预计时间内叫到，中位误差 ${Math.round(c.median_error_min)} 分钟`;
  if (c.mode === "withheld") return `${base}。近期偏差较大，暂不提供等候时间区间，预计时间仅供参考`;
  if (c.mode === "widened") return `${base}。已放宽等候时间区间`;
  return base;
}

/** A wait estimate said as a range, never more precise than it is: {text, level 0|1|2|"x"}. */
export function waitRange(waitMin, waiting = null, quoted = null) {
  if (waitMin === null || waitMin === undefined) return { text: "暂无开放窗口", level: "x" };
  const w = Number(waitMin);
  if (w <= 0 && !waiting) return { text: "无需等候", level: 0 };
  if (quoted && Number.isFinite(quoted.lo) && Number.isFinite(quoted.hi)) {
    // the server's range: the hall's own recent quote errors around the estimate (services/quotes.py)
    const level = w < 15 ? 0 : w < 45 ? 1 : 2;
    if (quoted.hi >= 90) {
      const lo = Math.max(0.5, Math.round(quoted.lo / 30) / 2);
      const hi = Math.max(lo + 0.5, Math.round(quoted.hi / 30) / 2);
      return { text: `约${lo}–${hi}小时`, level };
    }
    if (quoted.hi <= 5) return { text: "5分钟以内", level };
    if (quoted.lo <= 0) return { text: `${quoted.hi}分钟以内`, level };
    return { text: `约${quoted.lo}–${quoted.hi}分钟`, level };
  }
  if (w < 5) return { text: "5分钟以内", level: 0 };
  const level = w < 15 ? 0 : w < 45 ? 1 : 2;
  if (w >= 60) {
    const lo = Math.max(1, Math.round((w * 0.75) / 30) / 2);
    let hi = Math.round((w * 1.25) / 30) / 2;
    if (hi <= lo) hi = lo + 0.5;
    return { text: `约${lo}–${hi}小时`, level };
  }
  const lo = Math.floor((w * 0.75) / 5) * 5;
  let hi = Math.ceil((w * 1.25) / 5) * 5;
  if (hi <= lo) hi = lo + 5;
  if (lo <= 0) return { text: `${hi}分钟以内`, level };
  return { text: `约${lo}–${hi}分钟`, level };
}

export function hhmmss(iso) {
  const d = iso ? new Date(iso) : new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Is the hall's local time (its own timezone) within opening hours? null if unknown. */
export function openNow(hall) {
  if (!hall || !hall.opens || !hall.closes) return null;
  try {
    const parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: hall.timezone || undefined, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).format(new Date());
    return hall.opens <= parts && parts < hall.closes;
  } catch (e) {
    return null;
  }
}

export function startWaits({ hall }) {
  const $ = (id) => document.getElementById(id);
  const list = $("bundles");
  const search = $("search");
  let bundles = [];
  let hallInfo = null;
  const windows = new Map();
  const previous = new Map();

  const renderFacts = () => {
    const waiting = bundles.reduce((n, b) => n + (b.waiting || 0), 0);
    const open = windows.size
      ? [...windows.values()].filter((w) => w.open && !w.paused).length
      : bundles.reduce((n, b) => Math.max(n, b.open_windows || 0), 0);
    $("fact-waiting").textContent = String(waiting);
    $("fact-windows").textContent = String(open);
  };

  const renderHours = () => {
    if (!hallInfo) return;
    $("hours").textContent = `${hallInfo.opens}–${hallInfo.closes}`;
    const open = openNow(hallInfo);
    const tag = $("hours-tag");
    tag.hidden = open === null;
    tag.className = `hours-tag ${open ? "open" : "shut"}`;
    tag.textContent = open ? "办公时间内" : "现在不在办公时间";
  };

  const renderList = () => {
    const q = (search.value || "").trim();
    const shown = q ? bundles.filter((b) => b.name.includes(q) || b.prefix === q.toUpperCase()) : bundles;
    list.innerHTML = shown.map((b) => {
      const r = waitRange(b.wait_min, b.waiting, b.wait_range);
      const before = previous.get(b.code);
      const changed = before !== undefined && before !== b.waiting ? " changed" : "";
      return `<li class="bundle lv-${r.level}${changed}" data-bundle="${esc(b.code)}">
        <span class="letter">${esc(b.prefix)}</span>
        <span class="name">${esc(b.name)}</span>
        <span class="wait"><b class="eta">${esc(r.text)}</b><span>预计等候</span></span>
        <span class="sub">等候 <b class="waiting num">${esc(b.waiting)}</b> 人 · 开放窗口 ${esc(b.open_windows)} 个</span>
      </li>`;
    }).join("") || `<li class="empty-note">没有找到“${esc(q)}”相关的事项</li>`;
    for (const b of bundles) previous.set(b.code, b.waiting);
  };

  const update = (data) => {
    if (data.hall && typeof data.hall === "object") hallInfo = data.hall;
    if (Array.isArray(data.bundles)) bundles = data.bundles;
    if (data.calibration) $("calibration").textContent = calibrationText(data.calibration);
    if (Array.isArray(data.windows)) {
      windows.clear();
      for (const w of data.windows) windows.set(w.id, w);
    }
    $("updated").textContent = hhmmss(data.at);
    renderHours();
    renderFacts();
    renderList();
    document.body.dataset.ready = "1";
  };

  search.addEventListener("input", renderList);
  setInterval(renderHours, 30000);
  connectScreen({
    hall, screen: "hall",
    handlers: {
      snapshot: update,
      queue_updated: update,
      window_updated: (data) => { windows.set(data.window.id, data.window); renderFacts(); },
      error: (err) => { list.innerHTML = `<li class="empty-note">${esc(err?.message || "暂时无法获取数据")}</li>`; },
    },
  });
}
