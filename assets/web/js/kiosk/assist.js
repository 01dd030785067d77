// 请工作人员帮忙 (帮办代办): the citizen at the terminal asks for a helper; the request is filed with the
// terminal as the location (the server uses the kiosk device's name) and followed live here and,
// through its QR, on the citizen's phone.
import { esc } from "../live.js";
import { openPad } from "./pad.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;

let ctx = null;
let kind = "help";
let phone = "";
let filed = null; // the public view of the filed request
let timer = null;

function renderChoice() {
  for (const b of document.querySelectorAll("#as-kinds [data-kind]")) b.classList.toggle("on", b.dataset.kind === kind);
  $("as-phone").textContent = phone;
  $("as-status").textContent = "";
  $("as-status").className = "k-status";
}

export function openAssist() {
  stop();
  kind = "help";
  phone = "";
  filed = null;
  $("as-form").hidden = false;
  $("as-done").hidden = true;
  $("as-done").innerHTML = "";
  $("as-go").disabled = false;
  renderChoice();
  ctx.show("assist");
}

function reason() {
  const p = ctx.state.identity?.priority;
  return p === "elderly" || p === "disabled" ? p : "other";
}

async function file() {
  $("as-go").disabled = true;
  $("as-status").textContent = "正在通知工作人员…";
  const body = { kind, reason: reason() };
  if (ctx.state.identity) body.identity_token = ctx.state.identity.identity_token;
  if (phone) body.phone = phone;
  try {
    filed = await ctx.call("POST", `/halls/${encodeURIComponent(ctx.state.hall)}/assist-requests`, body);
    renderFiled();
    ctx.speak("已通知工作人员，请在本机旁稍候");
    timer = setInterval(refresh, POLL_MS);
  } catch (e) {
    $("as-status").textContent = `${e.message || "暂时无法呼叫"}。您也可以到服务台找工作人员。`;
    $("as-status").className = "k-status error";
    $("as-go").disabled = false;
  }
}

function renderFiled() {
  const f = filed;
  const qr = f.follow_url && f.follow_url.startsWith(`${ctx.state.server}/`)
    ? `<img class="as-qr" alt="手机扫码查看进度" src="/agent/qr.png?data=${encodeURIComponent(f.follow_url)}">` : "";
  $("as-form").hidden = true;
  $("as-done").hidden = false;
  $("as-done").dataset.status = f.status;
  $("as-done").innerHTML = `<div class="k-ticket-head"><span class="ok" aria-hidden="true">✓</span>已通知工作人员</div>`
    + `<div class="as-body"><p class="as-state">${esc(f.status_name || "")}</p>`
    + (f.helper ? `<p class="as-helper">${esc(f.helper.name)} 正在赶来</p>`
      : `<p>请在本机旁稍候${f.ahead ? `，前面还有 <b class="num">${esc(String(f.ahead))}</b> 位` : ""}</p>`)
    + `<p class="as-where">呼叫位置：${esc(f.location || "本终端")}</p>`
    + (qr ? `<div class="as-follow">${qr}<span>手机扫码，随时查看工作人员何时到达</span></div>` : "")
    + `</div><div class="k-bar"><button type="button" class="k-btn k-btn-primary" data-as="done">好的</button></div>`;
}

async function refresh() {
  if (!filed || $("app").dataset.screen !== "assist") { stop(); return; }
  try {
    const now = await ctx.call("GET", `/assist/${encodeURIComponent(filed.follow_token)}`);
    if (!filed || now.follow_token !== filed.follow_token) return;
    filed = { ...filed, ...now };
    renderFiled();
  } catch { /* the next poll tries again; the request is filed */ }
}

function stop() {
  clearInterval(timer);
  timer = null;
}

export function wipeAssist() {
  stop();
  filed = null;
  phone = "";
  $("as-done").innerHTML = "";
  $("as-phone").textContent = "";
}

export function initAssist(context) {
  ctx = context;
  $("as-kinds").addEventListener("click", (event) => {
    const b = event.target.closest("[data-kind]");
    if (b) { kind = b.dataset.kind; renderChoice(); }
  });
  $("as-phone").addEventListener("click", async () => {
    const v = await openPad({ label: "手机号码（选填）", kind: "phone", value: phone });
    if (v !== null) { phone = /^1[3-9]\d{9}$/.test(v) ? v : ""; renderChoice(); if (v && !phone) $("as-status").textContent = "手机号码应为11位，已不填"; }
  });
  $("as-go").addEventListener("click", file);
  $("as-done").addEventListener("click", (event) => { if (event.target.closest("[data-as='done']")) ctx.done(); });
  $("as-back").addEventListener("click", () => { stop(); ctx.back(); });
}
