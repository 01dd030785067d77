// The citizen's 帮办代办 page (/h/<follow_token>, from the kiosk receipt's QR or the link given when
// filing): what was asked, who is coming, each step with its time, live over Socket.IO
// (screen "assist-follow:<token>"); the citizen may cancel while nobody has taken it yet.
import { api } from "./api.js";
import { connectScreen, esc } from "./live.js";

const $ = (id) => document.getElementById(id);
let view = JSON.parse($("assist-data").textContent);

function hhmm(iso) {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function headline(v) {
  if (v.status === "open") {
    return `<div class="as-ahead">${v.ahead ? `前面还有<b class="num" id="ahead">${esc(v.ahead)}</b>位群众在等候`
      : "您是下一位，工作人员马上受理"}</div>`;
  }
  if ((v.status === "claimed" || v.status === "in_progress") && v.helper) {
    const verb = v.kind === "help" && v.status === "claimed" ? "正在赶来" : "为您服务";
    return `<div class="as-helper" id="helper">${esc(v.helper.name)} ${verb}</div>`;
  }
  if (v.status === "done") return '<div class="as-ahead">感谢您的耐心，欢迎对本次服务作出评价</div>';
  return "";
}

function render(v) {
  const steps = v.steps.map((s) => `<li><span class="t">${esc(hhmm(s.at))}</span><b>${esc(s.action_name)}</b>`
    + `${s.staff ? `<span class="who">${esc(s.staff.name)}</span>` : ""}`
    + `${s.note ? `<span class="n">${esc(s.note)}</span>` : ""}</li>`).join("");
  $("assist").innerHTML = `
    <section class="card as-status">
      <div class="as-kind">${esc(v.kind_name)}${v.reason !== "other" ? ` · ${esc(v.reason_name)}优先` : ""}</div>
      <div class="as-word" id="status" data-status="${esc(v.status)}">${esc(v.status_name)}</div>
      ${headline(v)}
      <div class="meta-row" style="justify-content:center;gap:14px">
        <span>${esc(hhmm(v.created_at))}提交</span><span class="live-dot">实时更新</span></div>
    </section>
    <section class="card">
      <dl class="as-facts">
        <dt>所在位置</dt><dd id="location">${esc(v.location)}</dd>
        <dt>办理事项</dt><dd>${esc(v.bundle ? v.bundle.name : "现场确定")}</dd>
        ${v.masked_name ? `<dt>求助人</dt><dd>${esc(v.masked_name)}</dd>` : ""}
        ${v.phone_masked ? `<dt>联系电话</dt><dd>${esc(v.phone_masked)}</dd>` : ""}
      </dl>
    </section>
    <section class="card">
      <h2 class="as-h2">办理进度</h2>
      <ol class="as-steps" id="steps">${steps}</ol>
      ${v.status === "open" ? `<button class="as-cancel" type="button" id="cancel">不需要了，取消求助</button>
        <div class="as-error" id="cancel-error" role="alert"></div>` : ""}
    </section>
    <section class="card"><p class="fine" style="margin:0">帮办代办服务免费（依法应缴的费用除外）。
      老年人、残疾人优先。如需帮助也可前往综合服务窗口（“办不成事”反映窗口）。</p></section>`;
}

document.addEventListener("click", async (ev) => {
  if (ev.target.id !== "cancel") return;
  if (!window.confirm("确定取消这次求助吗？")) return;
  ev.target.disabled = true;
  try {
    view = await api().post(`/assist/${view.follow_token}/cancel`);
    render(view);
  } catch (e) {
    $("cancel-error").textContent = e.message || "取消失败，请稍后再试";
    ev.target.disabled = false;
  }
});

render(view);
const socket = connectScreen({
  hall: view.hall, screen: `assist-follow:${view.follow_token}`,
  handlers: { snapshot(data) { view = data.request; render(view); } },
});
socket.on("assist_updated", (data) => { view = data.request; render(view); });
