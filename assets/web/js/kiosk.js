// The web kiosk (/kiosk/): one finger, no keyboard. Idle → bundle grid → confirm → ticket → idle.
// Served by the kiosk agent (data-agent="1") it also identifies the citizen (苏服码, ID card: events
// from /agent/events), prints tickets, and offers 一次告知, 自助办理, 进度查询 and 好差评; personal data
// is wiped after each transaction and after idle_seconds without a touch (a 10 s warning first).
// The device token comes from the URL fragment (#token=…, then kept in localStorage and removed from
// the address bar) and never appears in a request URL. Taking a number sends one Idempotency-Key per
// press and reuses it for every retry of that press, so a retried request never makes two tickets.
import { api as makeApi } from "./api.js";
import { clock, esc } from "./live.js";
import { priorityLabel, waitRange } from "./waits.js";
import { initCitizen, openForm, openNotice, openProgress, openRating, progressScan, ratingScan, wipeCitizen } from "./kiosk/citizen.js";
import { closePad } from "./kiosk/pad.js";
import { checkinScan, initCheckin, openCheckin, wipeCheckin } from "./kiosk/checkin.js";
import { closeKeyboard, initKeyboard } from "./kiosk/keyboard.js";
import { initAssist, openAssist, wipeAssist } from "./kiosk/assist.js";
import { loadIme } from "./kiosk/ime.js";

const TOKEN_KEY = "govhall.kiosk.token";
const RETRIES = 3;                // network errors only; the same key each time
const TICKET_MS = 20000;          // the ticket leaves the screen after 20 s (no data lingers)
const IDLE_MS = 60000;            // a half-finished choice goes back to the idle screen
const BUNDLES_MS = 15000;         // waits refresh while the grid is shown
const BOOT_RETRY_MS = 5000;
const FORM = { original: "原件", copy: "复印件", electronic: "电子证照" };

const $ = (id) => document.getElementById(id);
const AGENT = document.getElementById("app").dataset.agent === "1";
const IDLE_S = Number(document.getElementById("app").dataset.idle) || 90;
const WARN_S = 10;                // the "还需要更多时间吗？" countdown
const PRINT_FAIL_MS = 60000;      // a ticket that did not print stays longer, to be photographed
const PRIVATE = ["ident", "loading", "unregistered"]; // screens that hold no personal data
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// key: the Idempotency-Key of the current press; lost: the key of a press whose answer never came,
// reused if the same citizen picks the same bundle again, as the server may have made that ticket
const state = { token: null, hall: null, bundles: [], chosen: null, key: null, lost: null, taking: false, ticket: null,
  identity: null, session: {}, purpose: "ticket", server: "", hallName: "政务服务中心", notice: null, elder: false };
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
  if (AGENT && screen === "idle") screen = "ident";
  $("app").dataset.screen = screen;
  for (const el of document.querySelectorAll(".k-screen")) el.hidden = el.id !== `s-${screen}`;
  clearTimeout(idleTimer);
  clearTimeout(ticketTimer);
  clearInterval(bundlesTimer);
  if (!AGENT && (screen === "bundles" || screen === "confirm")) armIdle();
  if (AGENT) { armPrivacy(); prompt(screen); }
  if (screen === "bundles") bundlesTimer = setInterval(loadBundles, BUNDLES_MS);
  if (screen === "idle" || screen === "ident") {
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
    if (e.status === 0 || e.code === "server_unreachable") setNet(true, e.message);
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
    const wait = waitRange(b.wait_min, b.waiting, b.wait_range);
    // the closing-time guard: still tappable, so the citizen learns why and where to go instead
    const line = closed ? `<span class="k-wait-x">暂无窗口</span>`
      : b.issuing === false ? `<span class="k-wait-x">今日已停止取号 · 可预约</span>`
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
  const wait = waitRange(bundle.wait_min, bundle.waiting, bundle.wait_range);
  const elderly = state.identity?.priority && state.identity.priority !== "none" ? priorityLabel(state.identity.priority) : "";
  $("c-choice").innerHTML = `<span class="k-prefix">${esc(bundle.prefix)}</span><span>${esc(shortName(bundle.name))}`
    + `${detail(bundle.name) ? `<small>${esc(detail(bundle.name))}</small>` : ""}</span>`
    + (elderly ? `<span class="k-badge k-badge-big">${esc(elderly)}</span>` : "");
  $("c-stats").innerHTML = `<div><span>当前等候</span><b class="num">${bundle.waiting}</b><em>人</em></div>`
    + `<div><span>预计等候</span><b>${esc(wait.text)}</b></div>`;
  $("c-materials").hidden = true;
  setStatus("");
  resetTake();
  if (bundle.issuing === false) {
    $("c-take").disabled = true;
    $("c-take").textContent = "今日已停止取号";
    setStatus(`今天剩下的时间已办不完“${shortName(bundle.name)}”，现在不再取号。您可以用手机预约其他时间办理，`
      + "或点首页“请工作人员帮忙”；能自助办理的事项可在24小时自助服务区办理。", "error");
  }
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
        const body = { bundle: state.chosen.code };
        if (state.identity) body.identity_token = state.identity.identity_token;
        const ticket = await api.post(`/halls/${encodeURIComponent(state.hall)}/tickets`, body,
          { "Idempotency-Key": state.key });
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
function showTicket(ticket, head = "取号成功") {
  state.ticket = ticket;
  $("t-head").textContent = head;
  $("t-number").textContent = ticket.number;
  const label = priorityLabel(ticket.priority);
  $("t-bundle").innerHTML = `${esc(ticket.bundle_name || state.chosen?.name || ticket.bundle)}`
    + (label ? ` <span class="k-badge">${esc(label)}</span>` : "");
  $("t-ahead").textContent = String(ticket.people_ahead ?? 0);
  $("t-wait").textContent = waitRange(ticket.wait_min, ticket.people_ahead, ticket.wait_range).text;
  const path = `/t/${encodeURIComponent(ticket.track_token)}`;
  const trackUrl = `${state.server}${path}`;
  $("t-link").textContent = AGENT ? trackUrl.replace(/^https?:\/\//, "") : `${window.location.host}${path}`;
  const qr = $("t-qr");
  qr.hidden = false;
  $("t-qr-missing").hidden = true;
  qr.onerror = () => { qr.hidden = true; $("t-qr-missing").hidden = false; };
  qr.src = AGENT ? `/agent/qr.png?data=${encodeURIComponent(trackUrl)}` : `${path}/qr.png`;
  $("t-print").hidden = true;
  show("ticket");
  document.body.dataset.ticket = ticket.number;
  if (AGENT) printTicket(ticket);
  countdown(TICKET_MS);
}

function countdown(ms) {
  clearTimeout(ticketTimer);
  const until = Date.now() + ms;
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $("t-count").textContent = `（${left}秒后返回）`;
    if (left <= 0) { finish(); return; }
    ticketTimer = setTimeout(tick, 250);
  };
  tick();
}

/** Print the ticket on the terminal's printer; when it cannot, the ticket stays valid on screen. */
async function printTicket(ticket) {
  const el = $("t-print");
  el.className = "k-print";
  el.textContent = "正在打印号票…";
  el.hidden = false;
  try {
    const r = await fetch("/agent/print/ticket", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ticket, hall_name: state.hallName }) });
    const out = await r.json();
    if (state.ticket !== ticket) return;
    if (out.printed) {
      el.textContent = "号票已打印，请从出票口取走";
      el.classList.add("ok");
    } else {
      el.textContent = out.message || out.error?.message || "号票未能打印，号票已生效，请拍下屏幕上的号码和二维码";
      el.classList.add("warn");
      speak("号票未能打印，号票已生效，请拍下屏幕上的号码和二维码");
      countdown(PRINT_FAIL_MS);
    }
  } catch {
    if (state.ticket !== ticket) return;
    el.textContent = "号票未能打印，号票已生效，请拍下屏幕上的号码和二维码";
    el.classList.add("warn");
    countdown(PRINT_FAIL_MS);
  }
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
    if (hall.name) { $("hall-name").textContent = hall.name; state.hallName = hall.name; }
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

// ------------------------------------------------------------------ the agent: identity, privacy, voice
/** The API through the agent, which adds the device token (never seen by the browser). */
function agentApi() {
  const call = async (method, path, body, headers = {}) => {
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`/agent/api${path}`, init);
    } catch {
      throw new ApiError(0, "network", "本机服务未响应，请稍后再试或联系工作人员");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const err = data.error || {};
      if (err.code === "server_unreachable") setNet(true, err.message);
      throw new ApiError(response.status, err.code || "error", err.message || `请求失败 (${response.status})`);
    }
    if (method !== "GET" || path.startsWith("/halls")) setNet(false);
    return data;
  };
  return {
    call,
    get: (path) => call("GET", path),
    post: (path, body, headers) => call("POST", path, body ?? {}, headers),
  };
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const PROMPTS = {
  ident: "请扫苏服码或刷身份证，也可以直接取号",
  menu: "请选择要办理的业务",
  bundles: "请选择要办理的事项",
  confirm: "请确认后按确认取号",
  ticket: "取号成功，请留意叫号",
  notice: "这是办事须知，请查看所需材料",
  form: "请核对并填写表格，身份信息已自动填写",
  receipt: "申请已提交，请记下申请编号",
  progress: "请输入申请编号后按查询",
  checkin: "请输入预约码，或扫描手机上的预约二维码",
  assist: "请选择帮办或代办，然后按呼叫工作人员",
  rate: "请为本次服务评价",
};

let voice = null;
/** 长辈模式: say `text` aloud (agent only; the server's page has no voice). */
function speak(text) {
  if (!AGENT || !state.elder || !text) return;
  try {
    if (voice) voice.pause();
    voice = new Audio(`/agent/voice.wav?text=${encodeURIComponent(text.slice(0, 60))}`);
    voice.play().catch(() => { /* no sound device: the text is on screen */ });
  } catch { /* ignore */ }
}

function prompt(screen) {
  if (screen === "menu" && state.identity) speak(`${state.identity.masked_name}您好，请选择要办理的业务`);
  else speak(PROMPTS[screen]);
}

function setElder(on) {
  state.elder = on;
  document.body.classList.toggle("elder", on);
  $("elder").setAttribute("aria-pressed", String(on));
  $("elder").classList.toggle("on", on);
  if (on) prompt($("app").dataset.screen);
}

// privacy: after IDLE_S without a touch a 10 s warning, then everything personal is wiped
let privacyTimer = null;
let warnTimer = null;
function armPrivacy() {
  clearTimeout(privacyTimer);
  if (PRIVATE.includes($("app").dataset.screen) || !$("timeout").hidden) return;
  privacyTimer = setTimeout(warn, IDLE_S * 1000);
}

function warn() {
  if (state.taking) { armPrivacy(); return; }
  $("timeout").hidden = false;
  speak("还需要更多时间吗？");
  const until = Date.now() + WARN_S * 1000;
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $("timeout-left").textContent = String(left);
    if (left <= 0) { finish(); return; }
    warnTimer = setTimeout(tick, 250);
  };
  tick();
}

function keepGoing() {
  clearTimeout(warnTimer);
  $("timeout").hidden = true;
  armPrivacy();
}

/** Forget the person: identity token, masked name, forms, ticket — on screen and in memory. */
function wipe() {
  clearTimeout(warnTimer);
  clearTimeout(privacyTimer);
  $("timeout").hidden = true;
  closePad();
  closeKeyboard();
  wipeCheckin();
  wipeAssist();
  state.identity = null;
  state.session = {};
  state.notice = null;
  state.ticket = null;
  state.purpose = "ticket";
  delete document.body.dataset.ticket;
  $("who").textContent = "";
  $("who").hidden = true;
  $("session").hidden = true;
  $("hello").innerHTML = "";
  $("t-number").textContent = "";
  $("t-bundle").textContent = "";
  $("t-link").textContent = "";
  $("t-print").hidden = true;
  $("c-choice").innerHTML = "";
  wipeCitizen();
  $("t-qr").removeAttribute("src");
}

/** The end of a transaction (or of the idle countdown): wipe, back to the start. */
function finish(title = "", sub = "") {
  if (!AGENT) { show("idle"); return; }
  wipe();
  show("ident");
  if (title) identMsg(`<b>${esc(title)}</b>${sub ? `<span>${esc(sub)}</span>` : ""}`, "ok", 8000);
}

let identMsgTimer = null;
function identMsg(html, kind, ms = 10000) {
  const el = $("ident-msg");
  el.innerHTML = html;
  el.className = `k-ident-msg ${kind}`;
  el.hidden = !html;
  clearTimeout(identMsgTimer);
  if (html) identMsgTimer = setTimeout(() => { el.hidden = true; }, ms);
}

function identified(ev) {
  if (["ticket", "receipt"].includes($("app").dataset.screen)) finish(); // a new person: the last one's data goes
  wipe();
  state.identity = { masked_name: ev.masked_name, masked_id: ev.masked_id, priority: ev.priority, age: ev.age,
    identity_token: ev.identity_token, via: ev.via, card: ev.card || null }; // card: this transaction only
  identMsg("", "");
  openMenu();
}

function openMenu() {
  const who = state.identity;
  const label = who && who.priority && who.priority !== "none" ? priorityLabel(who.priority) : "";
  $("who").hidden = !who;
  $("who").innerHTML = who ? `<span class="num">${esc(who.masked_name)}</span>${label ? `<em>${esc(label)}</em>` : ""}` : "";
  $("session").hidden = false;
  $("hello").innerHTML = who
    ? `<h1 class="k-h1"><span class="num">${esc(who.masked_name)}</span>，您好</h1><p>已通过${who.via === "sfm" ? "苏服码" : "身份证"}核验 · <span class="num">${esc(who.masked_id)}</span>`
      + `${label ? ` <span class="k-badge">${esc(label)}</span>` : ""}</p>`
    : `<h1 class="k-h1">您好，请选择业务</h1><p>未登录：可取号、查看办事须知、评价号票服务</p>`;
  for (const tile of document.querySelectorAll("#menu [data-need-id]")) tile.disabled = !who;
  $("menu-note").textContent = who ? "" : "自助办理、进度查询需先扫苏服码或刷身份证：请按“退出”回到首页";
  show("menu");
}

function menuAct(act) {
  if (act === "ticket" || act === "notice" || act === "form") {
    state.purpose = act;
    $("b-title").textContent = { ticket: "请选择要取号的事项", notice: "请选择要查看须知的事项", form: "请选择要自助办理的事项" }[act];
    renderGrid();
    show("bundles");
    loadBundles();
  } else if (act === "progress") openProgress();
  else if (act === "checkin") openCheckin();
  else if (act === "assist") openAssist();
  else if (act === "rate") {
    const a = state.session.application;
    openRating(a && state.identity ? { application: a.number, identity_token: a.identity_token } : null,
      a ? `评价本次自助办理（${a.number}）` : "请扫描号票上的二维码，评价该次窗口服务");
  }
}

function onDevice(device, ok, message) {
  const way = { qr: "sfm", idcard: "idcard" }[device];
  if (way) {
    $(`way-${way}`).classList.toggle("down", !ok);
    $(`way-${way}-down`).hidden = ok;
    $(`way-${way}-down`).textContent = ok ? "" : (message || "暂不可用");
  }
  if (device === "server") setNet(!ok, message || undefined);
}

function onEvent(ev) {
  if (ev.type === "hello") {
    for (const [device, st] of Object.entries(ev.devices || {})) onDevice(device, st.ok, st.message);
  } else if (ev.type === "identified") identified(ev);
  else if (ev.type === "identify_failed") {
    if (!PRIVATE.includes($("app").dataset.screen) && state.identity) return; // someone else's code: ignore
    show("ident");
    identMsg(`<b>${ev.via === "sfm" ? "苏服码" : "身份证"}未能核验</b><span>${esc(ev.message)}</span>`, "error");
    speak(ev.message);
  } else if (ev.type === "device") onDevice(ev.device, ev.ok, ev.message);
  else if (ev.type === "qr") {
    if (progressScan(ev.text)) {
      if (!state.identity) identMsg(`<b>请先扫苏服码或刷身份证</b><span>再扫回执上的二维码，即可查询办理进度</span>`, "error", 8000);
    } else if (!checkinScan(ev.text) && !ratingScan(ev.text)) identMsg(`<b>无法识别此二维码</b><span>请扫描苏服码、预约二维码或号票上的二维码</span>`, "error", 6000);
  }
}

function connectEvents() {
  const source = new EventSource("/agent/events");
  source.onmessage = (message) => {
    try { onEvent(JSON.parse(message.data)); } catch { /* a malformed event is skipped */ }
  };
  source.onopen = () => { document.body.dataset.events = "1"; };
  source.onerror = () => { document.body.dataset.events = "0"; }; // EventSource reconnects by itself
}

async function bootAgent() {
  try {
    const st = await (await fetch("/agent/status")).json();
    state.server = st.server;
    const me = await api.get("/auth/me");
    if (!me.hall) { unregistered("本终端未绑定大厅，请联系工作人员"); return; }
    state.hall = me.hall;
    setNet(false);
  } catch (e) {
    if (e.status === 401 || e.status === 403) { unregistered(e.status === 401 ? "本终端登记已失效，请联系工作人员" : undefined); return; }
    setNet(true, e.message);
    show("ident");
    document.body.dataset.ready = "1";
    setTimeout(bootAgent, BOOT_RETRY_MS);
    return;
  }
  await Promise.all([loadHall(), loadBundles()]);
  if (["loading", "ident"].includes($("app").dataset.screen)) show("ident");
  document.body.dataset.ready = "1";
  setTimeout(() => loadIme().catch(() => { /* the keyboard tries again when opened */ }), 2000); // ~0.5 s, once
}

function wireAgent() {
  $("anon").addEventListener("click", () => { wipe(); openMenu(); });
  $("menu").addEventListener("click", (event) => {
    const tile = event.target.closest(".k-tile");
    if (tile && !tile.disabled) menuAct(tile.dataset.act);
  });
  $("exit").addEventListener("click", () => finish());
  $("timeout-more").addEventListener("click", keepGoing);
  $("timeout-quit").addEventListener("click", () => finish());
  document.addEventListener("pointerdown", () => { if ($("timeout").hidden) armPrivacy(); }, true);
  initCitizen({ AGENT, state, show, speak, call: (m, p, b, h) => api.call(m, p, b, h), done: finish,
    takeFor: (code) => { state.purpose = "ticket"; loadBundles().then(() => choose(code)); } });
  initKeyboard();
  initCheckin({ state, show, speak, call: (m, p, b, h) => api.call(m, p, b, h), done: finish,
    showTicket: (ticket, head) => { state.chosen = null; showTicket(ticket, head); },
    takeAny: () => { openMenu(); menuAct("ticket"); }, back: openMenu });
  initAssist({ state, show, speak, call: (m, p, b, h) => api.call(m, p, b, h), done: finish, back: openMenu });
  connectEvents();
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
    if (!card) return;
    if (AGENT && state.purpose === "notice") openNotice(card.dataset.bundle);
    else if (AGENT && state.purpose === "form") openForm(card.dataset.bundle);
    else if (!card.disabled) choose(card.dataset.bundle);
  });
  $("c-take").addEventListener("click", take);
  $("t-done").addEventListener("click", () => finish());
  $("elder").addEventListener("click", () => setElder(!state.elder));
  for (const btn of document.querySelectorAll("[data-go]")) {
    btn.addEventListener("click", () => {
      const go = AGENT && btn.dataset.go === "idle" ? "menu" : btn.dataset.go;
      if (go === "bundles") { renderGrid(); loadBundles(); }
      show(go);
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
  if (AGENT) {
    api = agentApi();
    wireAgent();
    bootAgent();
    return;
  }
  state.token = readToken();
  if (!state.token) { unregistered(); return; }
  api = makeApi(state.token);
  setInterval(checkVersion, 60000);
  boot();
}

start();
