// 一次告知: the current ticket's bundle's material checklist; the clerk ticks what the citizen brought.
import { esc } from "../live.js";
import { $, api, memoOf, saveMemo, state, toast } from "./state.js";

const FORM = { original: "原件", copy: "复印件", electronic: "电子证照" };

const CHECKLIST_ICON = document.querySelector(".notice-placeholder .icon")?.outerHTML || "";

function materialRow(m, matterNames, allMatters, got) {
  const tags = [];
  if (m.exempt) tags.push(`<span class="tag tag-green">免提交</span>`);
  if (m.tolerated) tags.push(`<span class="tag tag-amber">可容缺</span>`);
  if (m.promise_allowed) tags.push(`<span class="tag tag-blue">可告知承诺</span>`);
  const notes = [m.exempt && m.exempt_note, m.note].filter(Boolean).map((n) => `<div class="m-note">${esc(n)}</div>`).join("");
  const form = `${FORM[m.form] || esc(m.form)}${m.copies > 0 && m.form !== "electronic" ? ` ${m.copies}份` : ""}`;
  const matters = m.matters.length >= allMatters ? "全部事项" : m.matters.map((c) => matterNames.get(c) || c).join("、");
  const check = m.exempt ? `<span class="exempt-mark" title="免提交">免</span>`
    : `<input type="checkbox" data-material="${esc(m.code)}" ${got ? "checked" : ""} aria-label="已收：${esc(m.name)}">`;
  const cls = [m.exempt ? "exempt" : "clickable", got && !m.exempt ? "got" : ""].join(" ");
  return `<tr class="${cls}" data-code="${esc(m.code)}"><td class="check">${check}</td>`
    + `<td><span class="m-name">${esc(m.name)}</span><span class="m-tags">${tags.join("")}</span>${notes}</td>`
    + `<td class="m-form">${form}</td><td class="m-matters">${esc(matters)}</td></tr>`;
}

function renderProgress(notice, got) {
  const required = notice.materials.filter((m) => !m.exempt);
  const have = required.filter((m) => got.includes(m.code));
  const missing = required.filter((m) => !got.includes(m.code));
  const soft = missing.every((m) => m.tolerated || m.promise_allowed);
  const el = $("n-progress");
  el.hidden = false;
  el.dataset.done = missing.length === 0 ? "1" : soft ? "soft" : "0";
  $("n-bar").style.width = `${required.length ? (have.length / required.length) * 100 : 100}%`;
  $("n-progress-text").textContent = !required.length ? "全部免提交"
    : missing.length === 0 ? `材料齐全 ${have.length}/${required.length}`
      : soft ? `已收 ${have.length}/${required.length} · 可容缺受理` : `已收 ${have.length}/${required.length}`;
}

function days(n) { return n === null || n === undefined ? null : `${n}个工作日`; }

export function renderNotice() {
  const body = $("notice-body");
  const cur = state.win?.current;
  const code = cur?.bundle;
  if (body.dataset.key === `${code}|${cur?.number}` && body.dataset.filled === "1") {
    renderProgress(state.notices.get(code), memoOf(cur.number).got);
    return;
  }
  if (!cur) {
    body.dataset.key = "";
    body.dataset.filled = "0";
    $("n-progress").hidden = true;
    const served = (state.win?.bundles || []).map((b) => `<li class="tag">${esc(b.name)}</li>`).join("");
    body.innerHTML = `<div class="notice-placeholder">${CHECKLIST_ICON}`
      + `<div>叫号后在此显示该事项的一次告知材料清单，可逐项勾选群众已提交的材料</div>`
      + (served ? `<div style="margin-top:14px;font-size:13px">本窗口办理：</div><ul>${served}</ul>` : "") + "</div>";
    return;
  }
  const notice = state.notices.get(code);
  body.dataset.key = `${code}|${cur.number}`;
  if (!notice) {
    body.dataset.filled = "0";
    body.innerHTML = `<div class="notice-placeholder"><div>正在载入“${esc(cur.bundle_name || code)}”的一次告知…</div></div>`;
    loadNotice(code);
    return;
  }
  body.dataset.filled = "1";
  const got = memoOf(cur.number).got;
  const matterNames = new Map(notice.matters.map((m) => [m.code, m.name]));
  const facts = [
    days(notice.promised_days) && `<span class="promise">承诺时限 <b>${days(notice.promised_days)}</b></span>`,
    days(notice.legal_days) && `<span>法定时限 <b>${days(notice.legal_days)}</b></span>`,
    `<span>牵头部门 <b>${esc(notice.lead_department)}</b></span>`,
    `<span>包含事项 <b>${notice.matters.length}</b> 项</span>`,
    notice.fees && `<span>收费 <b>${esc(notice.fees)}</b></span>`,
  ].filter(Boolean).join("");
  // what the clerk has to collect first, then what is fetched as e-licences (免提交)
  const ordered = [...notice.materials.filter((m) => !m.exempt), ...notice.materials.filter((m) => m.exempt)];
  const rows = ordered.map((m) => materialRow(m, matterNames, notice.matters.length, got.includes(m.code))).join("");
  const conditions = notice.conditions.length
    ? `<div class="notice-section"><h4>受理条件</h4><ol>${notice.conditions.map((c) => `<li>${esc(c)}</li>`).join("")}</ol></div>` : "";
  const matters = notice.matters.map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(m.department)}</td>`
    + `<td class="num">${days(m.promised_days) || "—"}</td><td>${esc(m.fee || "不收费")}</td></tr>`).join("");
  body.innerHTML = `<div class="notice-title"><h3>${esc(notice.name)}</h3><div class="facts">${facts}</div></div>`
    + `<table class="table materials"><thead><tr><th></th><th>材料名称（共 ${notice.materials.length} 项）</th><th>形式</th><th>适用事项</th></tr></thead><tbody>${rows}</tbody></table>`
    + conditions
    + `<div class="notice-section"><details><summary>包含事项（${notice.matters.length} 项）</summary>`
    + `<table class="table matters"><thead><tr><th>事项</th><th>承办部门</th><th>承诺时限</th><th>收费</th></tr></thead><tbody>${matters}</tbody></table></details></div>`;
  renderProgress(notice, got);
}

export async function loadNotice(code) {
  if (state.notices.has(code) || loadNotice.pending?.has(code)) return;
  loadNotice.pending = loadNotice.pending || new Set();
  loadNotice.pending.add(code);
  try {
    state.notices.set(code, await api.get(`/bundles/${encodeURIComponent(code)}`));
    renderNotice();
  } catch (e) {
    toast(`一次告知载入失败：${e.message}`, "error");
  } finally {
    loadNotice.pending.delete(code);
  }
}

export function toggleMaterial(code, on) {
  const cur = state.win?.current;
  if (!cur) return;
  const m = memoOf(cur.number);
  m.got = on ? [...new Set([...m.got, code])] : m.got.filter((c) => c !== code);
  saveMemo();
  const row = document.querySelector(`#notice-body tr[data-code="${CSS.escape(code)}"]`);
  if (row) {
    row.classList.toggle("got", on);
    row.querySelector("input").checked = on;
  }
  renderProgress(state.notices.get(cur.bundle), m.got);
}
