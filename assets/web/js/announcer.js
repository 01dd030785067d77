// Spoken calls for a hall screen: one announcement at a time, in the order the calls were made.
// - each call plays /display/audio/call.wav (chime + Mandarin sentence made on the server);
// - if the voice is missing (503) or the file cannot play, it chimes and shows the text only;
// - if the browser refuses sound until someone touches the screen (autoplay policy), the text is
//   still shown and a small button asks for the one click that unlocks sound;
// - window.govhallAnnouncer {queue, played, speaking, current, log} lets tests and technicians
//   see what is pending, what was announced and whether two ever overlapped (log: start/end times).

const CHIME_URL = "/display/audio/chime.wav";
const TEXT_ONLY_MS = 4000; // how long a text-only call stays in the "正在播报" line
const GAP_MS = 600; // a breath between two calls
const MAX_AUDIO_MS = 20000; // a stuck player must never block the queue

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function callText(call) {
  const text = call.announcement || `请${call.ticket.number}号到${call.window.number}号窗口办理`;
  return text;
}

export function callAudioUrl(call) {
  const q = new URLSearchParams({
    number: call.ticket.number, window: String(call.window.number), recall: call.recall ? "1" : "0",
  });
  return `/display/audio/call.wav?${q}`;
}

export function createAnnouncer({ textEl = null, unlockEl = null, voice = true } = {}) {
  const state = {
    queue: [], played: [], speaking: false, current: null, log: [], voice, blocked: false, lastMode: null,
  };
  window.govhallAnnouncer = state;
  const pending = [];
  const player = new Audio();
  player.preload = "auto";
  let running = false;

  const show = (text) => {
    if (!textEl) return;
    textEl.textContent = text || "";
    (textEl.closest(".speaking") || textEl).classList.toggle("on", Boolean(text));
  };
  const setBlocked = (blocked) => {
    state.blocked = blocked;
    if (unlockEl) unlockEl.classList.toggle("on", blocked);
  };

  if (unlockEl) {
    unlockEl.addEventListener("click", async () => {
      // a click is the user gesture browsers ask for; a short chime both unlocks and confirms sound
      setBlocked(false);
      try { await play(CHIME_URL); } catch (e) { if (e && e.name === "NotAllowedError") setBlocked(true); }
    });
  }

  function play(url) {
    return new Promise((resolve, reject) => {
      let done = false;
      let timer = setTimeout(() => { player.pause(); finish(resolve); }, MAX_AUDIO_MS);
      const finish = (fn, arg) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        player.onended = player.onerror = player.onloadedmetadata = null;
        fn(arg);
      };
      player.onloadedmetadata = () => {
        if (Number.isFinite(player.duration)) {
          clearTimeout(timer);
          timer = setTimeout(() => { player.pause(); finish(resolve); }, player.duration * 1000 + 3000);
        }
      };
      player.onended = () => finish(resolve);
      player.onerror = () => finish(reject, Object.assign(new Error("audio unavailable"), { name: "MediaError" }));
      player.src = url;
      const started = player.play();
      if (started) started.catch((e) => finish(reject, e));
    });
  }

  async function speak(item) {
    if (!state.voice) return "text";
    try {
      await play(item.url);
      setBlocked(false);
      return "voice";
    } catch (e) {
      if (e && e.name === "NotAllowedError") { setBlocked(true); return "text"; }
    }
    // the voice engine is missing or the file is bad: at least the chime, with the text on screen
    try {
      await play(CHIME_URL);
      return "chime";
    } catch (e) {
      if (e && e.name === "NotAllowedError") setBlocked(true);
      return "text";
    }
  }

  async function pump() {
    if (running) return;
    running = true;
    try {
      while (pending.length) {
        const item = pending.shift();
        state.queue.shift();
        state.speaking = true;
        state.current = item.text;
        show(item.text);
        const entry = { text: item.text, start: performance.now(), end: null, mode: null };
        state.log.push(entry);
        const t0 = Date.now();
        entry.mode = state.lastMode = await speak(item);
        if (entry.mode !== "voice") {
          const rest = TEXT_ONLY_MS - (Date.now() - t0);
          if (rest > 0) await sleep(rest);
        }
        entry.end = performance.now();
        state.played.push(item.text);
        state.speaking = false;
        state.current = null;
        show("");
        if (pending.length) await sleep(GAP_MS);
      }
    } finally {
      running = false;
      state.speaking = false;
    }
  }

  return {
    state,
    /** Queue the announcement of one ticket_called event. */
    announce(call) {
      const text = callText(call);
      pending.push({ text, url: callAudioUrl(call) });
      state.queue.push(text);
      pump();
    },
  };
}
