// The identified citizen's screens of the kiosk agent: 一次告知, 自助办理 (一表申请) and its receipt,
// 进度查询 and 好差评. Everything personal lives in ctx.state.identity / ctx.state.session and in
// the DOM of these screens; wipe() empties both (after a transaction or the idle timeout).
import { esc } from "../live.js";
import { openKeyboard } from "./keyboard.js";
import { KINDS, openPad, shown } from "./pad.js";

const $ = (id) => document.getElementById(id);
const FORM = { original: "原件", copy: "复印件", electronic: "电子证照" };
const VERIFIED = { name: "姓名", id_number: "身份号码", birth_date: "出生日期" }; // the server vouches for these
const FROM_CARD = ["sex", "nation", "address"]; // read from the ID card, sent with the form, still editable
const TYPED = ["text", "address"]; // typed on the pinyin keyboard
// faces drawn, not emoji: a kiosk's fonts may lack them. Mouth curve per level (5 broad smile … 1 deep frown).
const MOUTH = { 5: "M20 38q12 14 24 0", 4: "M21 40q11 8 22 0", 3: "M21 42h22", 2: "M21 45q11-8 22 0", 1: "M20 47q12-13 24 0" };
const face = (level) => `<svg viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="29" fill="currentColor" opacity=".16"/>`
  + `<circle cx="32" cy="32" r="29" fill="none" stroke="currentColor" stroke-width="4"/><circle cx="22" cy="26" r="4" fill="currentColor"/>`
  + `<circle cx="42" cy="26" r="4" fill="currentColor"/><path d="${MOUTH[level]}" fill="none" stroke="currentColor" stroke-width="4.5" stroke-linecap="round"/></svg>`;

let ctx = null;
let form = null;   // {bundle, notice, values:{}, delivery, address, phone}
let rating = null; // {subject:{ticket}|{application, identity_token}, level, reasons:Set}
let catalogue = null;

const days = (n) => (n === null || n === undefined ? null : n === 0 ? "即办（当场办结）" : `${n}个工作日`);

// ------------------------------------------------------------------ 一次告知
export async function openNotice(code) {
  $("n-body").innerHTML = `<p class="k-lead">正在读取…</p>`;
  $("n-form").hidden = !ctx.state.identity;
  $("n-print-status").hidden = true;
  ctx.show("notice");
  try {
    const n = await ctx.call("GET", `/bundles/${encodeURIComponent(code)}`);
    ctx.state.notice = n;
    $("n-title").textContent = n.name;
    $("n-body").innerHTML = noticeHtml(n);
  } catch (e) {
    $("n-body").innerHTML = `<p class="k-error">${esc(e.message)}</p>`;
  }
}

function mark(m) {
  const marks = [];
  if (m.exempt) marks.push(`<em class="m-exempt">免提交</em>`);
  if (m.tolerated) marks.push(`<em class="m-tolerated">容缺</em>`);
  if (m.promise_allowed) marks.push(`<em class="m-promise">告知承诺</em>`);
  return marks.join("");
}

function noticeHtml(n) {
  const matters = n.matters.map((m) => `<li>${esc(m.name)}<small>${esc(m.department || "")}</small></li>`).join("");
  const mats = n.materials.map((m) => `<li class="${m.exempt ? "is-exempt" : ""}"><span>${esc(m.name)}`
    + `<small>${FORM[m.form] || ""}${m.copies > 1 ? ` ${m.copies}份` : ""}${m.exempt_note ? ` · ${esc(m.exempt_note)}` : ""}</small></span>${mark(m)}</li>`).join("");
  const limits = [days(n.legal_days) && `法定时限：${days(n.legal_days)}`, days(n.promised_days) && `承诺时限：${days(n.promised_days)}`]
    .filter(Boolean).join("　") || "以窗口告知为准";
  return `${n.summary ? `<p class="k-summary">${esc(n.summary)}</p>` : ""}`
    + `<h2>包含事项（${n.matters.length}项，一次办好）</h2><ul class="k-list">${matters}</ul>`
    + `<h2>申请条件</h2><ul class="k-list">${n.conditions.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>`
    + `<h2>所需材料（一套材料）</h2><p class="k-legend"><em class="m-exempt">免提交</em>可调取电子证照 <em class="m-tolerated">容缺</em>可先受理后补交 <em class="m-promise">告知承诺</em>可书面承诺代替</p>`
    + `<ul class="k-list k-mats">${mats}</ul>`
    + `<h2>办理时限</h2><p>${limits}</p>`
    + `<h2>收费</h2><p>${esc(n.fees || "不收费")}</p>`
    + (n.lead_department ? `<h2>牵头部门</h2><p>${esc(n.lead_department)}</p>` : "");
}

// ------------------------------------------------------------------ 自助办理 (一表申请)
export async function openForm(code) {
  $("f-body").innerHTML = `<p class="k-lead">正在读取表单…</p>`;
  $("f-fill").textContent = "";
  setStatus("f-status", "");
  ctx.show("form");
  try {
    const notice = ctx.state.notice?.code === code ? ctx.state.notice : await ctx.call("GET", `/bundles/${encodeURIComponent(code)}`);
    form = { bundle: code, notice, values: prefill(notice.form), delivery: "window", address: "", phone: "", materials: {} };
    $("f-title").textContent = notice.name;
    renderForm();
  } catch (e) {
    $("f-body").innerHTML = `<p class="k-error">${esc(e.message)}</p>`;
  }
}

/** The fields the ID card read for this transaction gives the form (sex, nation, address). */
function prefill(fields) {
  const card = ctx.state.identity?.card;
  const values = {};
  if (!card) return values;
  for (const f of fields) {
    const v = FROM_CARD.includes(f.identity) ? card[f.identity] : "";
    if (v && (f.type !== "select" || (f.options || []).includes(v))) values[f.key] = v;
  }
  return values;
}

const fromCard = (f) => FROM_CARD.includes(f.identity) && Boolean(ctx.state.identity?.card?.[f.identity])
  && form.values[f.key] === ctx.state.identity.card[f.identity];

function identityValue(f) {
  const who = ctx.state.identity;
  if (f.identity === "name") return who.card?.name || who.masked_name;
  if (f.identity === "id_number") return who.masked_id;
  return who.card?.birth_date || `已核验（${who.age}岁）`;
}

function fieldHtml(f) {
  if (VERIFIED[f.identity]) {
    return `<div class="f-row f-auto" data-key="${esc(f.key)}"><label>${esc(f.label)}</label>`
      + `<div class="f-value"><span class="num">${esc(identityValue(f))}</span><em>已自动填写</em></div></div>`;
  }
  const req = (f.required ? `<i class="f-req">必填</i>` : `<i class="f-opt">选填</i>`)
    + (fromCard(f) ? `<em class="f-card">已从身份证填写</em>` : "");
  if (f.type === "select") {
    const opts = (f.options || []).map((o) => `<button type="button" class="f-opt-btn${form.values[f.key] === o ? " on" : ""}" data-key="${esc(f.key)}" data-v="${esc(o)}">${esc(o)}</button>`).join("");
    return `<div class="f-row" data-key="${esc(f.key)}" data-type="select"><label>${esc(f.label)}${req}</label><div class="f-opts">${opts}</div></div>`;
  }
  const v = form.values[f.key] || "";
  return `<div class="f-row${fromCard(f) ? " f-prefilled" : ""}" data-key="${esc(f.key)}" data-type="${esc(f.type)}"><label>${esc(f.label)}${req}</label>`
    + `<button type="button" class="k-input num f-edit" data-key="${esc(f.key)}" data-placeholder="点此填写">${esc(v)}</button></div>`;
}

function renderForm() {
  const fields = form.notice.form;
  const auto = fields.filter((f) => VERIFIED[f.identity] || fromCard(f)).length;
  const $fill = $("f-fill");
  $fill.innerHTML = `已自动填写 <b class="num">${auto}/${fields.length}</b> 项（${Math.round((100 * auto) / Math.max(1, fields.length))}%）`
    + `<span>身份信息来自${ctx.state.identity.via === "sfm" ? "苏服码" : "身份证"}核验${ctx.state.identity.card ? "；性别、民族、住址可修改" : "，不可修改"}</span>`;
  $fill.dataset.auto = String(auto);
  $fill.dataset.total = String(fields.length);
  const mats = form.notice.materials.filter((m) => !m.exempt).map((m) => {
    const ways = [["bring", "现场提交"], ...(m.tolerated ? [["tolerated", "容缺受理"]] : []), ...(m.promise_allowed ? [["promise", "告知承诺"]] : [])];
    const pick = form.materials[m.code] || "bring";
    return `<li><span>${esc(m.name)}</span><div class="f-opts">${ways.map(([w, label]) => `<button type="button" class="f-opt-btn f-mat${pick === w ? " on" : ""}" data-mat="${esc(m.code)}" data-v="${w}">${label}</button>`).join("")}</div></li>`;
  }).join("");
  const exempt = form.notice.materials.filter((m) => m.exempt).length;
  const post = form.delivery === "post";
  $("f-body").innerHTML = `<h2>一表申请</h2>${fields.map(fieldHtml).join("")}`
    + `<h2>材料清单</h2>${exempt ? `<p class="k-legend"><b>${exempt}</b> 项材料已通过电子证照调取，免提交</p>` : ""}`
    + (mats ? `<ul class="k-list f-mats">${mats}</ul>` : `<p>无需另交材料</p>`)
    + `<h2>结果领取方式</h2><div class="f-opts f-delivery">`
    + `<button type="button" class="f-opt-btn${post ? "" : " on"}" data-delivery="window">窗口领取</button>`
    + `<button type="button" class="f-opt-btn${post ? " on" : ""}" data-delivery="post">免费邮寄</button></div>`
    + (post ? `<div class="f-row" data-type="address"><label>收件地址<i class="f-req">必填</i></label><button type="button" class="k-input f-edit" data-key="@address" data-placeholder="点此填写">${esc(form.address)}</button></div>`
      + `<div class="f-row" data-type="phone"><label>收件手机号码<i class="f-req">必填</i></label><button type="button" class="k-input num f-edit" data-key="@phone" data-placeholder="点此填写">${esc(form.phone)}</button></div>` : "");
}

async function editField(key) {
  const special = { "@address": ["收件地址", "address"], "@phone": ["收件手机号码", "phone"] }[key];
  const f = form.notice.form.find((x) => x.key === key);
  const [label, kind] = special || [f.label, KINDS[f.type] ? f.type : "text"];
  const old = special ? form[key.slice(1)] : form.values[key] || "";
  const value = TYPED.includes(kind)
    ? await openKeyboard({ label, value: old, max: KINDS[kind][1] })
    : await openPad({ label, kind, value: old });
  if (value === null || !form) return;
  if (special) form[key.slice(1)] = value;
  else form.values[key] = value;
  const top = $("f-body").scrollTop;
  renderForm();
  $("f-body").scrollTop = top;
}

function onFormClick(event) {
  const t = event.target.closest("button");
  if (!t || !form) return;
  const top = $("f-body").scrollTop;
  if (t.classList.contains("f-edit")) { editField(t.dataset.key); return; }
  if (t.dataset.mat) form.materials[t.dataset.mat] = t.dataset.v;
  else if (t.dataset.delivery) form.delivery = t.dataset.delivery;
  else if (t.dataset.key) form.values[t.dataset.key] = t.dataset.v;
  else return;
  renderForm();
  $("f-body").scrollTop = top;
}

async function submitForm() {
  if (!form || !ctx.state.identity) return;
  const missing = form.notice.form.find((f) => f.required && !VERIFIED[f.identity] && !form.values[f.key]);
  if (missing) { setStatus("f-status", `请填写“${missing.label}”`, "error"); scrollTo(missing.key); return; }
  const body = { hall: ctx.state.hall, bundle: form.bundle, identity_token: ctx.state.identity.identity_token,
    form: form.values, delivery: form.delivery };
  if (form.delivery === "post") { body.address = form.address || null; body.phone = form.phone || null; }
  $("f-submit").disabled = true;
  setStatus("f-status", "正在提交…", "retry");
  try {
    const app = await ctx.call("POST", "/applications", body);
    ctx.state.session.application = { number: app.number, identity_token: ctx.state.identity.identity_token };
    form = null;
    showReceipt(app);
  } catch (e) {
    setStatus("f-status", e.message, "error");
  } finally {
    $("f-submit").disabled = false;
  }
}

function scrollTo(key) {
  document.querySelector(`#f-body .f-row[data-key="${CSS.escape(key)}"]`)?.scrollIntoView({ block: "center" });
}

function showReceipt(app) {
  $("r-number").textContent = app.number;
  $("r-lines").innerHTML = `<p><span>办理事项</span><b>${esc(app.bundle_name)}</b></p>`
    + `<p><span>当前状态</span><b>${esc(app.status_label)}</b></p>`
    + (app.promised_by ? `<p><span>承诺办结</span><b class="num">${esc(app.promised_by)} 前</b></p>` : "")
    + `<p><span>领取方式</span><b>${app.delivery === "post" ? "免费邮寄（寄出时短信通知）" : "统一出件窗口领取（结果出来后短信通知）"}</b></p>`
    + `<p class="k-legend">凭申请编号和本人身份证或苏服码，可在本机“进度查询”随时查看</p>`;
  ctx.show("receipt");
  if (ctx.AGENT) printReceipt();
}

/** Print through the agent; when the printer cannot, `el` says so and the screen keeps the content. */
async function agentPrint(path, body, el, doing, done, what) {
  el.className = "k-print";
  el.textContent = doing;
  el.hidden = false;
  let out;
  try {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    out = await r.json();
  } catch {
    out = { printed: false };
  }
  if (out.printed) {
    el.textContent = done;
    el.classList.add("ok");
  } else {
    el.textContent = out.message || out.error?.message || `未能打印，请拍下屏幕上的${what}`;
    el.classList.add("warn");
    ctx.speak(`未能打印，请拍下屏幕上的${what}`);
  }
  return Boolean(out.printed);
}

async function printReceipt() {
  const a = ctx.state.session.application;
  if (!a) return;
  $("r-reprint").hidden = true;
  const ok = await agentPrint("/agent/print/receipt", { application: a.number, identity_token: a.identity_token },
    $("r-print"), "正在打印受理回执…", "受理回执已打印，请从出票口取走", "申请编号");
  if (ctx.state.session.application === a) $("r-reprint").hidden = ok;
}

function printNotice() {
  const n = ctx.state.notice;
  if (!n) return;
  if (!ctx.AGENT) { window.print(); return; }
  agentPrint("/agent/print/notice", { bundle: n.code, hall_name: ctx.state.hallName }, $("n-print-status"),
    "正在打印告知单…", "告知单已打印，请从出票口取走", "告知内容");
}

// ------------------------------------------------------------------ 进度查询
let appno = "";

export function openProgress(number = "") {
  appno = number;
  $("p-number").textContent = number;
  $("p-result").innerHTML = "";
  setStatus("p-status", "");
  ctx.show("progress");
  if (number) queryProgress();
}

/** A scanned receipt QR (it holds the application number): query it for the identified person. */
export function progressScan(text) {
  const number = String(text || "").trim().toUpperCase();
  if (!/^SQ\d{8}-\d{4,5}$/.test(number)) return false;
  if (ctx.state.identity) openProgress(number);
  return true;
}

async function queryProgress() {
  if (!/^SQ\d{8}-\d{4,5}$/.test(appno)) { setStatus("p-status", "申请编号格式应为 SQ20261123-0001", "error"); return; }
  setStatus("p-status", "正在查询…", "retry");
  try {
    const app = await ctx.call("GET", `/applications/${encodeURIComponent(appno)}`, undefined,
      { "X-Identity-Token": ctx.state.identity.identity_token });
    setStatus("p-status", "");
    $("p-result").innerHTML = `<div class="k-progress-head"><b>${esc(app.bundle_name)}</b><em class="${app.overdue ? "late" : ""}">${esc(app.status_label)}${app.overdue ? "（已超承诺时限）" : ""}</em></div>`
      + `<ol class="k-steps-v">${app.history.map((h) => `<li><b>${esc(h.label)}</b><span class="num">${esc(String(h.at).replace("T", " ").slice(0, 16))}</span>${h.note ? `<small>${esc(h.note)}</small>` : ""}</li>`).join("")}</ol>`
      + (app.promised_by ? `<p class="k-legend">承诺办结日期：<b class="num">${esc(app.promised_by)}</b></p>` : "");
  } catch (e) {
    $("p-result").innerHTML = "";
    setStatus("p-status", e.message, "error");
  }
}

// ------------------------------------------------------------------ 好差评
export async function openRating(subject, title) {
  rating = { subject, level: 0, reasons: new Set() };
  $("rt-subject").textContent = title;
  $("rt-reasons").hidden = true;
  $("rt-send").disabled = true;
  setStatus("rt-status", subject ? "" : "请将号票上的二维码对准扫码口，评价该号票的服务", subject ? "" : "retry");
  ctx.show("rate");
  if (!catalogue) {
    try { catalogue = await ctx.call("GET", "/evaluations/reasons"); } catch (e) { setStatus("rt-status", e.message, "error"); return; }
  }
  renderLevels();
}

function renderLevels() {
  $("rt-levels").innerHTML = catalogue.levels.map((l) => `<button type="button" class="k-level lv${l.level}${rating.level === l.level ? " on" : ""}" data-level="${l.level}">`
    + `<span class="face">${face(l.level)}</span><span class="stars" aria-hidden="true">${"★".repeat(l.level)}${"☆".repeat(5 - l.level)}</span><b>${esc(l.label)}</b></button>`).join("");
  const level = catalogue.levels.find((l) => l.level === rating.level);
  const need = Boolean(level?.reasons_required);
  $("rt-reasons").hidden = !need;
  if (need) {
    // "other" needs a written comment; without a keyboard the listed reasons are offered
    $("rt-reasons").innerHTML = `<h2>请选择不满意的原因（至少一项）</h2><div class="f-opts">${catalogue.reasons.filter((r) => r.code !== "other")
      .map((r) => `<button type="button" class="f-opt-btn${rating.reasons.has(r.code) ? " on" : ""}" data-reason="${esc(r.code)}">${esc(r.label)}</button>`).join("")}</div>`;
  }
  $("rt-send").disabled = !rating.subject || !rating.level || (need && rating.reasons.size === 0);
}

function onRateClick(event) {
  const t = event.target.closest("button");
  if (!t || !rating || !catalogue) return;
  if (t.dataset.level) {
    rating.level = Number(t.dataset.level);
    if (rating.level > 2) rating.reasons.clear();
    ctx.speak(t.querySelector("b")?.textContent || "");
  } else if (t.dataset.reason) {
    if (rating.reasons.has(t.dataset.reason)) rating.reasons.delete(t.dataset.reason);
    else rating.reasons.add(t.dataset.reason);
  } else return;
  setStatus("rt-status", "");
  renderLevels();
}

/** A scanned ticket QR (…/t/<track_token>): rate that ticket. */
export function ratingScan(text) {
  const m = /\/t\/([A-Za-z0-9_-]{8,64})(?:[/?#]|$)/.exec(text);
  if (!m) return false;
  openRating({ ticket: m[1] }, "评价号票对应的窗口服务");
  return true;
}

async function sendRating() {
  if (!rating?.subject || !rating.level) return;
  $("rt-send").disabled = true;
  try {
    await ctx.call("POST", "/evaluations", { ...rating.subject, level: rating.level, reasons: [...rating.reasons], channel: "kiosk" });
    rating = null;
    ctx.done("感谢您的评价！", "您的意见将用于改进服务");
  } catch (e) {
    setStatus("rt-status", e.message, "error");
    renderLevels();
  }
}

// ------------------------------------------------------------------ shared
function setStatus(id, text, kind = "") {
  const el = $(id);
  el.textContent = text;
  el.className = `k-status ${kind}`;
}

/** Forget everything of the person: state and the DOM of these screens. */
export function wipeCitizen() {
  form = null;
  rating = null;
  appno = "";
  for (const id of ["f-body", "f-fill", "r-number", "r-lines", "p-result", "p-number", "rt-levels", "rt-reasons", "n-body"]) $(id).innerHTML = "";
  for (const id of ["f-status", "p-status", "rt-status"]) setStatus(id, "");
  for (const id of ["r-print", "n-print-status"]) { $(id).hidden = true; $(id).textContent = ""; }
  $("r-reprint").hidden = true;
}

export function initCitizen(context) {
  ctx = context;
  $("f-body").addEventListener("click", onFormClick);
  $("f-submit").addEventListener("click", submitForm);
  $("rt-levels").addEventListener("click", onRateClick);
  $("rt-reasons").addEventListener("click", onRateClick);
  $("rt-send").addEventListener("click", sendRating);
  $("p-number").addEventListener("click", async () => {
    const v = await openPad({ label: "申请编号", kind: "appno", value: appno || "SQ", prefix: "SQ" });
    if (v !== null) { appno = v; $("p-number").textContent = shown("appno", v); }
  });
  $("p-go").addEventListener("click", queryProgress);
  $("r-done").addEventListener("click", () => ctx.done("申请已提交", "请记好申请编号，凭编号查询进度"));
  $("r-rate").addEventListener("click", () => {
    const a = ctx.state.session.application;
    openRating(a ? { application: a.number, identity_token: a.identity_token } : null, a ? `评价本次自助办理（${a.number}）` : "");
  });
  $("n-take").addEventListener("click", () => ctx.takeFor(ctx.state.notice?.code));
  $("n-form").addEventListener("click", () => openForm(ctx.state.notice?.code));
  $("n-print").addEventListener("click", printNotice);
  $("r-reprint").addEventListener("click", printReceipt);
}
