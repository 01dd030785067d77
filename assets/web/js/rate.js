// The rating pad (窗口评价器) facing the citizen at one window (800x480 or 1024x600).
// Idle until the window's current ticket finishes (window_updated: current goes from a ticket to none or
// another), then asks GET /windows/{id}/last-finished with the pad's device token and shows the five
// national levels; 不满意 and 非常不满意 need at least one reason. Thanks, then idle again after 8 s.
// The pad shows and keeps nothing about the citizen: the ticket's track token stays in memory only
// for the one rating, and nothing is written to storage but the device token.
import { api as makeApi } from "./api.js";
import { connectScreen, esc } from "./live.js";

const TOKEN_KEY = "govhall.ratingpad.token";
const THANKS_MS = 8000;
const RATE_IDLE_MS = 90000; // nobody rates: back to idle, the rating is voluntary
const FALLBACK = {
  levels: [
    { level: 5, label: "非常满意", reasons_required: false }, { level: 4, label: "满意", reasons_required: false },
    { level: 3, label: "基本满意", reasons_required: false }, { level: 2, label: "不满意", reasons_required: true },
    { level: 1, label: "非常不满意", reasons_required: true }],
  reasons: [],
};
// mouth of each face: from a broad smile (5) to a deep frown (1)
const MOUTH = {
  5: "M19 38c3.5 7 8 10 13 10s9.5-3 13-10", 4: "M21 40c3 4 6.5 6 11 6s8-2 11-6",
  3: "M22 43h20", 2: "M21 46c3-4 6.5-6 11-6s8 2 11 6", 1: "M19 48c3.5-7 8-10 13-10s9.5 3 13 10",
};

const $ = (id) => document.getElementById(id);

/** The device token: from #token=… (stored, then wiped from the address bar) or from storage. */
function readToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match) {
    const token = decodeURIComponent(match[1]);
    try { localStorage.setItem(TOKEN_KEY, token); } catch { /* private mode: this session only */ }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return token;
  }
  try { return localStorage.getItem(TOKEN_KEY); } catch { return null; }
}

function faceSvg(level) {
  const eyes = level <= 2 ? `<path d="M19 24l7 3M45 24l-7 3"/>` : "";
  return `<svg viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="28"/>${eyes}` +
    `<circle class="eye" cx="24" cy="30" r="3"/><circle class="eye" cx="40" cy="30" r="3"/>` +
    `<path d="${MOUTH[level]}"/></svg>`;
}

function timeClock(el) {
  const tick = () => {
    const d = new Date();
    el.textContent = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  };
  tick();
  setInterval(tick, 5000);
}

export function startRatingPad({ hall, window: windowId }) {
  timeClock($("clock"));
  const token = readToken();
  let catalogue = FALLBACK;
  let subject = null; // {number, bundle_name, track_token} of the ticket being rated, memory only
  let level = null;
  let chosen = new Set();
  let timer = null;
  let sending = false;
  let lastCurrent; // the window's current ticket number as last seen (undefined: not seen yet)

  const show = (name) => {
    for (const s of document.querySelectorAll(".rp-screen")) s.hidden = s.dataset.screen !== name;
    document.body.dataset.screen = name;
  };
  const later = (ms, fn) => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  const idle = () => {
    clearTimeout(timer);
    subject = null;
    level = null;
    chosen = new Set();
    $("comment").value = "";
    show("idle");
  };

  if (!token) { show("unregistered"); document.body.dataset.ready = "1"; return; }
  const api = makeApi(token);

  const renderFaces = () => {
    $("faces").innerHTML = catalogue.levels.slice().sort((a, b) => b.level - a.level).map((l) =>
      `<button type="button" class="rp-face lv${l.level}" data-level="${l.level}" aria-pressed="${l.level === level}">` +
      `${faceSvg(l.level)}<span>${esc(l.label)}</span></button>`).join("");
  };
  const renderReasons = () => {
    $("reasons").innerHTML = catalogue.reasons.map((r) =>
      `<button type="button" class="rp-reason" data-reason="${esc(r.code)}" aria-pressed="${chosen.has(r.code)}">` +
      `${esc(r.label)}</button>`).join("");
    $("comment-box").hidden = !chosen.has("other");
  };
  const needsReasons = () => catalogue.levels.find((l) => l.level === level)?.reasons_required;

  const thanks = (title, text) => {
    subject = null;
    $("thanks-title").textContent = title;
    $("thanks-text").textContent = text;
    show("thanks");
    later(THANKS_MS, idle);
  };

  const submit = async () => {
    if (!subject || sending) return;
    const error = $("rate-error");
    if (needsReasons() && chosen.size === 0) {
      error.textContent = "请至少选择一项原因后再提交";
      return;
    }
    const comment = $("comment").value.trim();
    if (chosen.has("other") && !comment) {
      error.textContent = "选择“其他”时请简要说明原因";
      return;
    }
    error.textContent = "";
    sending = true;
    try {
      await api.post("/evaluations", {
        ticket: subject.track_token, level, channel: "pad",
        reasons: needsReasons() ? [...chosen] : [], comment: needsReasons() && comment ? comment : null,
      });
      thanks("感谢您的评价！", needsReasons() ? "我们会尽快核实并改进，感谢您的监督" : "您的意见将帮助我们改进服务");
    } catch (e) {
      if (e.code === "already_rated") thanks("本次服务已评价", "每次服务只能评价一次，感谢您的参与");
      else if (e.status === 400) error.textContent = e.message;
      else if (e.status === 0) error.textContent = "网络连接中断，请稍后再试";
      else thanks("暂时无法评价", e.message || "请稍后再试");
    } finally {
      sending = false;
    }
  };

  const ask = (ticket) => {
    subject = ticket;
    level = null;
    chosen = new Set();
    $("comment").value = "";
    $("rate-error").textContent = "";
    $("rp-what").textContent = `${ticket.number} · ${ticket.bundle_name}`;
    $("reasons-box").hidden = true;
    $("faces").classList.remove("picked");
    renderFaces();
    show("rate");
    later(RATE_IDLE_MS, idle);
  };

  const offer = async (finishedNumber) => {
    try {
      const ticket = await api.get(`/windows/${windowId}/last-finished`);
      // only the ticket that just left the counter, not an earlier unrated one
      if (finishedNumber && ticket.number !== finishedNumber) return;
      ask(ticket);
    } catch (e) {
      if (e.status === 401 || e.status === 403) show("unregistered");
      // 404 nothing_to_rate: transferred, no-show or already rated; stay idle
    }
  };

  $("faces").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-level]");
    if (!btn || !subject) return;
    level = Number(btn.dataset.level);
    later(RATE_IDLE_MS, idle);
    renderFaces();
    if (needsReasons()) {
      $("faces").classList.add("picked");
      $("reasons-box").hidden = false;
      $("rate-error").textContent = "";
      renderReasons();
    } else {
      submit(); // one tap (一键评价) for 基本满意 and better
    }
  });
  $("reasons").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-reason]");
    if (!btn) return;
    const code = btn.dataset.reason;
    if (chosen.has(code)) chosen.delete(code); else chosen.add(code);
    $("rate-error").textContent = "";
    later(RATE_IDLE_MS, idle);
    renderReasons();
  });
  $("rate-submit").addEventListener("click", submit);
  $("rate-back").addEventListener("click", () => {
    level = null;
    chosen = new Set();
    $("reasons-box").hidden = true;
    $("faces").classList.remove("picked");
    renderFaces();
  });

  const seen = (win, { initial }) => {
    const current = win?.current?.number ?? null;
    const before = lastCurrent;
    lastCurrent = current;
    if (before === undefined && !initial) return;
    if (before && before !== current && document.body.dataset.screen === "idle") offer(before);
  };

  api.get("/evaluations/reasons").then((data) => { catalogue = data; }).catch(() => { /* fallback levels */ });
  idle();
  connectScreen({
    hall, screen: `window:${windowId}`,
    handlers: {
      snapshot: (data) => { seen(data.window, { initial: true }); document.body.dataset.ready = "1"; },
      window_updated: (data) => { if (data.window?.id === windowId) seen(data.window, { initial: false }); },
    },
  });
}
