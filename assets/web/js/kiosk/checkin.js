// 预约签到: the 8-character booking code typed on a large keypad, or its QR (/book/{hall}/qr/{code}.png
// encodes the code alone) held to the scanner; POST /appointments/{code}/check-in through the agent
// gives the booking's one ticket, shown and printed exactly like a number taken here. Every refusal
// is said in plain words with the way on.
import { esc } from "../live.js";

const $ = (id) => document.getElementById(id);
export const ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"; // the server's booking-code alphabet
const LENGTH = 8;
const CODE = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

let ctx = null;
let code = "";
let busy = false;

/** The booking code in a scanned text (the QR holds the code; a pasted link ending in it works too). */
export function bookingCode(text) {
  const t = String(text || "").trim().toUpperCase();
  if (CODE.test(t)) return t;
  const m = new RegExp(`/([${ALPHABET}]{${LENGTH}})(?:\\.PNG)?(?:[?#].*)?$`).exec(t);
  return m ? m[1] : null;
}

function renderCode() {
  $("ci-code").innerHTML = Array.from({ length: LENGTH }, (_, i) => `<span class="${i === code.length ? "cur" : ""}">${esc(code[i] || "")}</span>`).join("");
  $("ci-go").disabled = code.length !== LENGTH || busy;
  $("ci-code").dataset.code = code;
}

function renderKeys() {
  $("ci-keys").innerHTML = [...ALPHABET].map((k) => `<button type="button" class="k-key" data-k="${k}">${k}</button>`).join("")
    + `<button type="button" class="k-key k-key-del" data-k="⌫">删除</button>`;
}

/** Explain a refusal in plain words, with the way on (再输一次 / 现场取号 / 返回). */
function refusal(e) {
  const take = `<button type="button" class="k-btn k-btn-primary" data-ci="take">现场取号</button>`;
  const retry = `<button type="button" class="k-btn k-btn-back" data-ci="retry">重新输入</button>`;
  const home = `<button type="button" class="k-btn k-btn-back" data-ci="home">返回首页</button>`;
  const said = {
    too_early: ["还没到签到时间", `${esc(e.message)}。<br>如果预约的不是今天，请在预约当天再来。`, [home, retry]],
    too_late: ["预约已过时", `${esc(e.message)}。<br>按“现场取号”即可排队办理。`, [home, take]],
    already_checked_in: ["这个预约已经签到过了", "号票已经取过，请留意大厅叫号屏和语音播报。<br>如号票丢失，请联系工作人员。", [home, retry]],
    not_booked: ["这个预约已取消", "已取消的预约不能签到。<br>您可以现场取号排队办理。", [home, take]],
  }[e.code];
  if (said) return said;
  if (e.status === 404) return ["没有找到这个预约", "请核对预约码（在预约短信或手机预约页面上），<br>注意 0 和 O、1 和 I 不会出现在预约码里。", [home, retry]];
  if (e.status === 403) return ["该预约不在本大厅", `${esc(e.message)}`, [home, take]];
  if (e.status === 0 || e.code === "server_unreachable") return ["网络连接中断", "暂时无法签到，请稍后再试或联系工作人员。", [home, retry]];
  return ["暂时无法签到", `${esc(e.message || "请稍后再试或联系工作人员")}`, [home, retry]];
}

function showRefusal(e) {
  const [title, text, actions] = refusal(e);
  $("ci-msg").innerHTML = `<div class="k-alert-icon" aria-hidden="true">!</div><h2>${esc(title)}</h2><p>${text}</p>`
    + `<div class="k-bar">${actions.join("")}</div>`;
  $("ci-msg").hidden = false;
  $("ci-msg").dataset.code = e.code || String(e.status);
  $("ci-pad").hidden = true;
  ctx.speak(title);
}

function hideRefusal() {
  $("ci-msg").hidden = true;
  $("ci-msg").innerHTML = "";
  $("ci-pad").hidden = false;
}

export function openCheckin() {
  code = "";
  busy = false;
  hideRefusal();
  renderCode();
  $("ci-status").textContent = "";
  ctx.show("checkin");
}

async function submit() {
  if (busy || !CODE.test(code)) return;
  busy = true;
  renderCode();
  $("ci-status").textContent = "正在签到…";
  try {
    const ticket = await ctx.call("POST", `/appointments/${encodeURIComponent(code)}/check-in`, {});
    code = "";
    ctx.showTicket(ticket, "签到成功");
  } catch (e) {
    showRefusal(e);
  } finally {
    busy = false;
    $("ci-status").textContent = "";
    renderCode();
  }
}

/** A booking QR was scanned: check in at once (from the start, the menu or this screen). */
export function checkinScan(text) {
  const found = bookingCode(text);
  if (!found) return false;
  if ($("app").dataset.screen !== "checkin") openCheckin();
  hideRefusal();
  code = found;
  renderCode();
  submit();
  return true;
}

function onKey(event) {
  const key = event.target.closest("[data-k]")?.dataset.k;
  if (!key || busy) return;
  if (key === "⌫") code = code.slice(0, -1);
  else if (code.length < LENGTH) code += key;
  renderCode();
}

function onAction(event) {
  const act = event.target.closest("[data-ci]")?.dataset.ci;
  if (act === "retry") { code = ""; hideRefusal(); renderCode(); }
  else if (act === "home") ctx.done();
  else if (act === "take") ctx.takeAny();
}

export function wipeCheckin() {
  code = "";
  hideRefusal();
  renderCode();
}

export function initCheckin(context) {
  ctx = context;
  renderKeys();
  renderCode();
  $("ci-keys").addEventListener("click", onKey);
  $("ci-msg").addEventListener("click", onAction);
  $("ci-go").addEventListener("click", submit);
  $("ci-clear").addEventListener("click", () => { code = ""; renderCode(); });
  $("ci-back").addEventListener("click", () => ctx.back());
}
