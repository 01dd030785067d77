// The web kiosk (/kiosk/): one finger, no keyboard. Idle → bundle grid → confirm → ticket → idle.
// The device token comes from the URL fragment (#token=…, then kept in localStorage and removed from
// the address bar) and never appears in a request URL. Taking a number sends one Idempotency-Key per
// press and reuses it for every retry of that press, so a retried request never makes two tickets.
import { api as makeApi } from "./api.js";
import { clock, esc } from "./live.js";
import { priorityLabel, waitRange } from "./waits.js";

const TOKEN_KEY = "govhall.kiosk.token";
const RETRIES = 3;                // network errors only; the same key each time
const TICKET_MS = 20000;          // the ticket leaves the screen after 20 s (no data lingers)
const IDLE_MS = 60000;            // a half-finished choice goes back to the idle screen
const BUNDLES_MS = 15000;         // waits refresh while the grid is shown
const BOOT_RETRY_MS = 5000;
const FORM = { original: "原件", copy: "复印件", electronic: "电子证照" };

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// key: the Idempotency-Key of the current press; lost: the key of a press whose answer never came,
// reused if the same citizen picks the same bundle again, as the server may have made that ticket
const state = { token: null, hall: null, bundles: [], chosen: null, key: null, lost: null, taking: false, ticket: null };
let api = makeApi(null);
let idleTimer = null;
let ticketTimer = null;
let bundlesTimer = null;

/** The device token: from #token=… (stored, then wiped from the address bar) or from storage. */
function readToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match) {
    try { localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1])); } catch { /* private mode */ }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return decodeURIComponent(match[1]);
  }
  try { return localStorage.getItem(TOKEN_KEY); } catch { return null; }
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts, a hall LAN is often plain http. */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function setNet(down, text = "网络连接中断，请稍后再试或联系工作人员") {
  $("net").hidden = !down;
  $("net-text").textContent = text;
  document.body.classList.toggle("offline", down);
}

const shortName = (name) => String(name || "").replace(/（[^）]*）/g, "").replace(/一件事$/, "");
const detail = (name) => (/（([^）]*)）/.exec(String(name || "")) || [])[1] || "";

// ------------------------------------------------------------------ screens
function show(screen) {
  $("app").dataset.screen = screen;
  for (const el of document.querySelectorAll(".k-screen")) el.hidden = el.id !== `s-${screen}`;
  clearTimeout(idleTimer);
  clearTimeout(ticketTimer);
  clearInterval(bundlesTimer);
  if (screen === "bundles" || screen === "confirm") armIdle();
  if (screen === "bundles") bundlesTimer = setInterval(loadBundles, BUNDLES_MS);
  if (screen === "idle") {
    state.chosen = null;
    state.key = null;
    state.lost = null;
    state.ticket = null;
    $("t-qr").removeAttribute("src");
  }
  window.scrollTo(0, 0);
}

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => { if (!state.taking) show("idle"); }, IDLE_MS);
}

// ------------------------------------------------------------------ bundles
async function loadBundles() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(state.hall)}/bundles`);
    state.bundles = data.bundles;
    setNet(false);
    renderGrid();
  } catch (e) {
    if (e.status === 0) setNet(true);
  }
}

function renderGrid() {
  if (!state.bundles.length) {
    renderGrid.last = "";
    $("grid").innerHTML = `<div class="k-empty">正在获取办理事项…</div>`;
    return;
  }
  const html = state.bundles.map((b) => {
    const closed = b.wait_min === null || b.wait_min === undefined;
    const wait = waitRange(b.wait_min, b.waiting);
    const line = closed ? `<span class="k-wait-x">暂无窗口</span>`
      : `等候<b class="num">${b.waiting}</b>人<i>·</i><span class="lvl${wait.level}">${esc(wait.text)}</span>`;
    const sub = detail(b.name);
    return `<button class="k-card" type="button" role="listitem" data-bundle="${esc(b.code)}" ${closed ? "disabled" : ""}>`
      + `<span class="k-prefix">${esc(b.prefix)}</span>`
      + `<span class="k-card-text"><span class="k-name">${esc(shortName(b.name))}${sub ? `<small>${esc(sub)}</small>` : ""}</span>`
      + `<span class="k-wait">${line}</span></span></button>`;
  }).join("");
  // redraw only what changed: a card replaced under a finger would swallow the touch
  if (html !== renderGrid.last) {
    renderGrid.last = html;
    $("grid").innerHTML = html;
  }
}

// ------------------------------------------------------------------ confirm
async function choose(code) {
  const bundle = state.bundles.find((b) => b.code === code);
  if (!bundle || bundle.wait_min === null) return;
  state.chosen = bundle;
  state.key = state.lost?.bundle === code ? state.lost.key : null; // otherwise a new choice is a new press
  const wait = waitRange(bundle.wait_min, bundle.waiting);
  $("c-choice").innerHTML = `<span class="k-prefix">${esc(bundle.prefix)}</span><span>${esc(shortName(bundle.name))}`
    + `${detail(bundle.name) ? `<small>${esc(detail(bundle.name))}</small>` : ""}</span>`;
  $("c-stats").innerHTML = `<div><span>当前等候</span><b class="num">${bundle.waiting}</b><em>人</em></div>`
    + `<div><span>预计等候</span><b>${esc(wait.text)}</b></div>`;
  $("c-materials").hidden = true;
  setStatus("");
  resetTake();
  show("confirm");
  try {
    const notice = await api.get(`/bundles/${encodeURIComponent(code)}`);
    if (state.chosen?.code === code) renderMaterials(notice);
  } catch { /* the materials are a courtesy; taking a number does not need them */ }
}

function renderMaterials(notice) {
  const bring = notice.materials.filter((m) => !m.exempt);
  const exempt = notice.materials.length - bring.length;
  const items = bring.slice(0, 6).map((m) => `<li>${esc(m.name)}<span>${FORM[m.form] || ""}${m.copies > 1 ? ` ${m.copies}份` : ""}</span></li>`).join("");
  $("c-materials").innerHTML = `<h2>请准备以下材料</h2>`
    + (bring.length ? `<ul>${items}${bring.length > 6 ? `<li class="more">等共 ${bring.length} 项，详见窗口告知</li>` : ""}</ul>`
      : `<p>本事项材料均可免提交，请携带有效身份证件</p>`)
    + (exempt ? `<p class="k-exempt"><b>${exempt}</b> 项材料可调取电子证照，免提交</p>` : "");
  $("c-materials").hidden = false;
}

function setStatus(text, kind = "") {
  const el = $("c-status");
  el.textContent = text;
  el.className = `k-status ${kind}`;
}

function resetTake(label = "确认取号") {
  const btn = $("c-take");
  btn.disabled = false;
  btn.classList.remove("busy");
  btn.textContent = label;
  $("c-back").disabled = false;
}

/** Take the number: one Idempotency-Key per press, kept for its retries and for a press again after
 * a failure, so a request the server did receive is answered with the same ticket, never a second. */
async function take() {
  if (state.taking || !state.chosen) return;
  state.taking = true;
  state.key = state.key || newKey();
  const btn = $("c-take");
  btn.disabled = true;
  btn.classList.add("busy");
  btn.textContent = "正在取号…";
  $("c-back").disabled = true;
  setStatus("");
  clearTimeout(idleTimer);
  try {
    for (let attempt = 0; attempt <= RETRIES; attempt += 1) {
      if (attempt > 0) {
        setStatus(`网络不稳定，正在重试…（第 ${attempt} 次）`, "retry");
        btn.textContent = "正在重试…";
        await sleep(800 * attempt);
      }
      try {
        const ticket = await api.post(`/halls/${encodeURIComponent(state.hall)}/tickets`,
          { bundle: state.chosen.code }, { "Idempotency-Key": state.key });
        setNet(false);
        state.lost = null;
        showTicket(ticket);
        return;
      } catch (e) {
        if (e.status === 401) { unregistered("本终端登记已失效，请联系工作人员"); return; }
        if (e.status !== 0 && e.status < 500) {
          setStatus(e.message || "取号失败，请联系工作人员", "error");
          state.key = null; // refused, not lost: the next press is a new request
          state.lost = null;
          resetTake("重新取号");
          armIdle();
          return;
        }
      }
    }
    state.lost = { bundle: state.chosen.code, key: state.key };
    setNet(true);
    setStatus("网络连接中断，请稍后再试或联系工作人员", "error");
    resetTake("再试一次");
    armIdle();
  } finally {
    state.taking = false;
  }
}

// ------------------------------------------------------------------ the ticket
function showTicket(ticket) {
  state.ticket = ticket;
  $("t-number").textContent = ticket.number;
  const label = priorityLabel(ticket.priority);
  $("t-bundle").innerHTML = `${esc(ticket.bundle_name || state.chosen?.name || ticket.bundle)}`
    + (label ? ` <span class="k-badge">${esc(label)}</span>` : "");
  $("t-ahead").textContent = String(ticket.people_ahead ?? 0);
  $("t-wait").textContent = waitRange(ticket.wait_min, ticket.people_ahead).text;
  const path = `/t/${encodeURIComponent(ticket.track_token)}`;
  $("t-link").textContent = `${window.location.host}${path}`;
  const qr = $("t-qr");
  qr.hidden = false;
  $("t-qr-missing").hidden = true;
  qr.onerror = () => { qr.hidden = true; $("t-qr-missing").hidden = false; };
  qr.src = `${path}/qr.png`;
  show("ticket");
  document.body.dataset.ticket = ticket.number;
  const until = Date.now() + TICKET_MS;
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $("t-count").textContent = `（${left}秒后返回）`;
    if (left <= 0) { show("idle"); return; }
    ticketTimer = setTimeout(tick, 250);
  };
  tick();
}

// ------------------------------------------------------------------ start-up
function unregistered(title = "本终端未登记，请联系工作人员") {
  $("unreg-title").textContent = title;
  show("unregistered");
  document.body.dataset.ready = "1";
}

async function loadHall() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(state.hall)}/screen`);
    const hall = data.hall || {};
    if (hall.name) $("hall-name").textContent = hall.name;
    if (hall.opens) $("hours").innerHTML = `办公时间 <b class="num">${esc(hall.opens)}–${esc(hall.closes)}</b>`;
    $("hall-notice").textContent = hall.notice || "";
  } catch { /* the name is decoration; the bundles matter */ }
}

async function boot() {
  try {
    const me = await api.get("/auth/me");
    if (!me.hall) { unregistered("本终端未绑定大厅，请联系工作人员"); return; }
    state.hall = me.hall;
    setNet(false);
  } catch (e) {
    if (e.status === 401 || e.status === 403) { unregistered(e.status === 401 ? "本终端登记已失效，请联系工作人员" : undefined); return; }
    setNet(true);
    show("idle");
    document.body.dataset.ready = "1";
    setTimeout(boot, BOOT_RETRY_MS);
    return;
  }
  await Promise.all([loadHall(), loadBundles()]);
  if (["loading", "idle"].includes($("app").dataset.screen)) show("idle");
  document.body.dataset.ready = "1";
}

/** Pages updated on the server: reload, but only while nobody is using the terminal. */
async function checkVersion() {
  if ($("app").dataset.screen !== "idle") return;
  const mine = document.querySelector('meta[name="govhall-version"]')?.content;
  try {
    const health = await api.get("/health");
    setNet(false);
    if (mine && health.version && health.version !== mine) window.location.reload();
  } catch (e) {
    if (e.status === 0) setNet(true);
  }
}

function wire() {
  $("touch").addEventListener("click", () => {
    if (!state.hall) { boot(); return; }
    renderGrid();
    show("bundles");
    loadBundles();
  });
  $("grid").addEventListener("click", (event) => {
    const card = event.target.closest(".k-card");
    if (card && !card.disabled) choose(card.dataset.bundle);
  });
  $("c-take").addEventListener("click", take);
  $("t-done").addEventListener("click", () => show("idle"));
  for (const btn of document.querySelectorAll("[data-go]")) {
    btn.addEventListener("click", () => {
      if (btn.dataset.go === "bundles") { renderGrid(); loadBundles(); }
      show(btn.dataset.go);
    });
  }
  // one finger: any touch keeps a choice alive; no context menu, no pinch zoom
  document.addEventListener("pointerdown", () => { if (["bundles", "confirm"].includes($("app").dataset.screen)) armIdle(); });
  document.addEventListener("contextmenu", (event) => event.preventDefault());
  document.addEventListener("gesturestart", (event) => event.preventDefault());
  window.addEventListener("online", () => { setNet(false); loadBundles(); });
  window.addEventListener("offline", () => setNet(true));
}

function start() {
  wire();
  clock($("clock"));
  state.token = readToken();
  if (!state.token) { unregistered(); return; }
  api = makeApi(state.token);
  setInterval(checkVersion, 60000);
  boot();
}

start();
