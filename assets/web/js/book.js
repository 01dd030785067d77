// The citizen's booking page (/book/<hall>): bundle → day → slot → who → confirm → booking code + QR;
// "我的预约" looks a booking up by code + ID number and cancels it. The ID number is sent once and
// kept only in this page's memory (for the cancel button), never in storage.
import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const WEEK = "日一二三四五六";

export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

export function startBooking({ hall, timezone }) {
  const client = api(null);
  const state = { bundle: null, day: null, slot: null, idNumber: null };
  const hhmm = new Intl.DateTimeFormat("zh-CN", { timeZone: timezone, hour: "2-digit", minute: "2-digit", hour12: false });
  const md = new Intl.DateTimeFormat("zh-CN", { timeZone: timezone, month: "numeric", day: "numeric", weekday: "short" });
  const time = (iso) => hhmm.format(new Date(iso));
  const when = (a) => `${md.format(new Date(a.slot_start))} ${time(a.slot_start)}–${time(a.slot_end)}`;

  function showError(message) {
    $("error").textContent = message || "";
    $("error").hidden = !message;
    if (message) $("error").scrollIntoView({ block: "nearest" });
  }

  async function guarded(fn) {
    showError("");
    try {
      await fn();
    } catch (e) {
      showError(e.message || "操作失败，请稍后再试");
    }
  }

  // --- step 1: bundles -------------------------------------------------------------------------
  async function loadBundles() {
    const data = await client.get(`/halls/${encodeURIComponent(hall)}/bundles`);
    $("bundles").innerHTML = data.bundles.map((b) => `
      <button type="button" class="bk-bundle" data-code="${esc(b.code)}" data-name="${esc(b.name)}" role="radio" aria-checked="false">
        <span class="bk-prefix">${esc(b.prefix)}</span><span>${esc(b.name)}</span></button>`).join("")
      || '<p class="bk-muted">本大厅暂无可预约事项</p>';
    for (const el of $("bundles").querySelectorAll(".bk-bundle")) {
      el.addEventListener("click", () => guarded(() => chooseBundle(el)));
    }
  }

  function mark(container, el) {
    for (const other of container.querySelectorAll("[role=radio]")) {
      other.setAttribute("aria-checked", String(other === el));
    }
  }

  async function chooseBundle(el) {
    mark($("bundles"), el);
    state.bundle = { code: el.dataset.code, name: el.dataset.name };
    state.day = null;
    state.slot = null;
    $("step-person").hidden = true;
    await loadSlots(null);
    $("step-slot").hidden = false;
    $("step-slot").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // --- step 2: days and slots ------------------------------------------------------------------
  async function loadSlots(day) {
    const q = new URLSearchParams({ bundle: state.bundle.code });
    if (day) q.set("date", day);
    const data = await client.get(`/halls/${encodeURIComponent(hall)}/appointments/slots?${q}`);
    state.day = data.date;
    $("days").innerHTML = data.days.map((d) => {
      const dt = new Date(`${d}T12:00:00`);
      return `<button type="button" role="radio" class="bk-day" data-day="${esc(d)}"
        aria-checked="${d === data.date}"><b>${dt.getMonth() + 1}/${dt.getDate()}</b>
        <span>周${WEEK[dt.getDay()]}</span></button>`;
    }).join("") || '<p class="bk-muted">近7天没有可预约的工作日</p>';
    for (const el of $("days").querySelectorAll(".bk-day")) {
      el.addEventListener("click", () => guarded(() => loadSlots(el.dataset.day)));
    }
    $("slots").innerHTML = data.slots.map((s) => `
      <button type="button" role="radio" class="bk-slot" data-start="${esc(s.start)}" data-end="${esc(s.end)}"
        aria-checked="false" ${s.remaining > 0 ? "" : "disabled"}>
        <b>${esc(time(s.start))}</b><span>${s.remaining > 0 ? `余${s.remaining}` : "已约满"}</span></button>`).join("")
      || '<p class="bk-muted">当天已无可预约时段，请换一天</p>';
    for (const el of $("slots").querySelectorAll(".bk-slot:not([disabled])")) {
      el.addEventListener("click", () => chooseSlot(el));
    }
  }

  function chooseSlot(el) {
    mark($("slots"), el);
    state.slot = { slot_start: el.dataset.start, slot_end: el.dataset.end };
    $("summary").innerHTML = `<div>事项：<b>${esc(state.bundle.name)}</b></div>
      <div>时段：<b>${esc(when(state.slot))}</b></div>`;
    $("step-person").hidden = false;
    $("step-person").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // --- step 3: confirm -------------------------------------------------------------------------
  async function confirm(event) {
    event.preventDefault();
    const name = $("name").value.trim();
    const idNumber = $("id-number").value.trim().toUpperCase();
    const phone = $("phone").value.trim();
    if (!name || !idNumber) throw new Error("请填写姓名和身份证号");
    $("confirm").disabled = true;
    try {
      const booked = await client.post(`/halls/${encodeURIComponent(hall)}/appointments`, {
        bundle: state.bundle.code, slot_start: state.slot.slot_start, name, id_number: idNumber,
        ...(phone ? { phone } : {}),
      });
      state.idNumber = idNumber;
      $("person-form").reset();
      for (const id of ["step-bundle", "step-slot", "step-person"]) $(id).hidden = true;
      showBooking($("done"), booked, idNumber, true);
    } finally {
      $("confirm").disabled = false;
    }
  }

  const STATUS = { booked: "待签到", checked_in: "已签到取号", cancelled: "已取消", missed: "已失效（爽约）" };

  function showBooking(box, a, idNumber, fresh) {
    box.hidden = false;
    box.innerHTML = `
      ${fresh ? '<div class="bk-ok">✓ 预约成功</div>' : ""}
      <div class="bk-label">预约码</div>
      <div class="bk-code" id="${fresh ? "booking-code" : "mine-code"}">${esc(a.code)}</div>
      <img class="bk-qr" alt="预约码二维码" width="200" height="200"
        src="/book/${encodeURIComponent(hall)}/qr/${encodeURIComponent(a.code)}.png">
      <dl class="bk-facts">
        <dt>事项</dt><dd>${esc(a.bundle_name)}</dd>
        <dt>时段</dt><dd>${esc(when(a))}</dd>
        <dt>预约人</dt><dd>${esc(a.masked_name)}</dd>
        <dt>状态</dt><dd class="bk-status ${esc(a.status)}">${esc(STATUS[a.status] || a.status)}${a.ticket_number ? ` · 号码 ${esc(a.ticket_number)}` : ""}</dd>
        <dt>签到</dt><dd>${esc(time(a.check_in_from))}–${esc(time(a.check_in_until))} 在自助终端签到</dd>
      </dl>
      <div class="bk-actions">
        <button type="button" class="bk-secondary" data-act="notice">一次告知：需带材料</button>
        ${a.status === "booked" ? '<button type="button" class="bk-danger" data-act="cancel">取消预约</button>' : ""}
        ${fresh ? '<button type="button" class="bk-secondary" data-act="again">再约一个</button>' : ""}
      </div>
      <p class="bk-muted">请截图或记下预约码；签到时出示本页二维码。</p>`;
    box.querySelector("[data-act=notice]").addEventListener("click", () => guarded(() => showNotice(a.bundle)));
    box.querySelector("[data-act=cancel]")?.addEventListener("click", () => guarded(async () => {
      if (!window.confirm("确定取消该预约吗？")) return;
      const done = await client.post(`/appointments/${encodeURIComponent(a.code)}/cancel`, { id_number: idNumber });
      showBooking(box, done, idNumber, false);
    }));
    box.querySelector("[data-act=again]")?.addEventListener("click", () => {
      box.hidden = true;
      $("step-bundle").hidden = false;
      mark($("bundles"), null);
    });
    box.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  async function showNotice(bundle) {
    const n = await client.get(`/bundles/${encodeURIComponent(bundle)}`);
    const materials = n.materials.filter((m) => !m.exempt).map((m) =>
      `<li>${esc(m.name)}<small>（${esc(m.form)}${m.copies > 1 ? ` ${m.copies}份` : ""}）</small></li>`).join("");
    $("notice-title").textContent = `一次告知 · ${n.name}`;
    $("notice-body").innerHTML = `
      ${n.summary ? `<p>${esc(n.summary)}</p>` : ""}
      <h3>需带材料</h3><ol>${materials || "<li>无需提交纸质材料</li>"}</ol>
      ${n.conditions.length ? `<h3>办理条件</h3><ul>${n.conditions.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>` : ""}
      <p class="bk-muted">收费：${esc(n.fees || "不收费")}${n.promised_days != null ? ` · 承诺时限 ${esc(n.promised_days)} 个工作日` : ""}</p>`;
    $("notice").hidden = false;
    $("notice-close").focus();
  }

  // --- 我的预约 ---------------------------------------------------------------------------------
  async function lookup(event) {
    event.preventDefault();
    const code = $("lookup-code").value.trim().toUpperCase();
    const idNumber = $("lookup-id").value.trim().toUpperCase();
    if (!code || !idNumber) throw new Error("请填写预约码和身份证号");
    const headers = { "X-Id-Number": idNumber };
    const response = await fetch(`/api/v1/appointments/${encodeURIComponent(code)}`, { headers });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error?.message || "查询失败");
    showBooking($("mine"), data, idNumber, false);
  }

  function tab(mine) {
    $("tab-book").setAttribute("aria-selected", String(!mine));
    $("tab-mine").setAttribute("aria-selected", String(mine));
    $("pane-book").hidden = mine;
    $("pane-mine").hidden = !mine;
    showError("");
  }

  $("tab-book").addEventListener("click", () => tab(false));
  $("tab-mine").addEventListener("click", () => tab(true));
  $("person-form").addEventListener("submit", (e) => guarded(() => confirm(e)));
  $("lookup-form").addEventListener("submit", (e) => guarded(() => lookup(e)));
  $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
  guarded(loadBundles);
}
