// 审计日志: the audit log in plain Chinese, filtered by category and text.
import { esc } from "../live.js";
import { diffOf } from "./alloc.js";
import { fmtDateTime } from "./format.js";
import { $, ACTION, api, DEVICE, FIELD, HALL, rankLabel, ROLE, shortName, state, windows } from "./state.js";
import { apiError } from "./ui.js";

const AUDIT_MS = 20000;

export async function loadAudit() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/audit?limit=300`);
    state.audit = data.entries || [];
    renderAudit();
  } catch (e) {
    apiError(e);
  }
}

function actorText(actor) {
  const [kind, ...rest] = String(actor || "").split(":");
  const who = rest.join(":");
  if (kind === "staff") {
    const s = state.staff.find((x) => x.username === who);
    return s ? `${esc(s.name)} <small class="mono">${esc(who)}</small>` : `<span class="mono">${esc(who)}</span>`;
  }
  if (kind === "device") {
    const d = state.devices.find((x) => String(x.id) === who);
    return `设备 #${esc(who)}${d ? ` <small>${esc(d.name)}</small>` : ""}`;
  }
  if (kind === "login") return `<span class="mono">${esc(who)}</span> <small>（未登录）</small>`;
  if (kind === "cli") return "系统 <small>命令行</small>";
  if (kind === "system") return "系统";
  return esc(actor);
}

function targetText(target) {
  if (!target) return `<span class="dim">—</span>`;
  const [kind, ...rest] = String(target).split(":");
  const id = rest.join(":");
  if (kind === "window") {
    const w = windows().find((x) => String(x.number) === id);
    return `${esc(id)}号窗口${w ? ` <small>${esc(w.name)}</small>` : ""}`;
  }
  if (kind === "staff") {
    const s = state.staff.find((x) => x.username === id);
    return `工作人员 ${s ? esc(s.name) : ""} <small class="mono">${esc(id)}</small>`;
  }
  if (kind === "device") {
    const d = state.devices.find((x) => String(x.id) === id);
    return `设备 #${esc(id)}${d ? ` <small>${esc(d.name)}</small>` : ""}`;
  }
  if (kind === "ticket") return `号码 <b>${esc(id)}</b>`;
  if (kind === "hall") return `大厅 ${esc(id)}`;
  if (kind === "application") return `办件 ${esc(id)}`;
  if (kind === "followup") return `差评回访 #${esc(id)}`;
  return esc(target);
}

function bundleList(codes, ranks) {
  const names = codes.map((c) => `${shortName(state.catalogue.get(c)?.name || c)}${ranks ? `（${rankLabel(ranks[c])}）` : ""}`);
  return names.length > 6 ? `${names.slice(0, 6).join("、")} 等 ${names.length} 项` : names.join("、");
}

function detailText(entry) {
  const d = entry.detail;
  if (!d) return `<span class="dim">—</span>`;
  if (entry.action === "window.allocation" && d.before && d.after) {
    const { added, removed, changed } = diffOf(new Map(Object.entries(d.before)), new Map(Object.entries(d.after)));
    const parts = [];
    if (added.length) parts.push(`<span class="d-add">新增 ${esc(bundleList(added, d.after))}</span>`);
    if (removed.length) parts.push(`<span class="d-del">移除 ${esc(bundleList(removed))}</span>`);
    if (changed.length) parts.push(`<span class="d-chg">调整 ${changed.map((c) => esc(`${shortName(state.catalogue.get(c)?.name || c)} ${rankLabel(d.before[c])}→${rankLabel(d.after[c])}`)).join("、")}</span>`);
    return parts.join("；") || "分配未变化";
  }
  if (entry.action === "staff.update" && Array.isArray(d.fields)) {
    return `修改了 ${d.fields.map((f) => esc(FIELD[f] || f)).join("、")}`;
  }
  if (entry.action === "staff.create") {
    return `角色 ${esc(ROLE[d.role] || d.role || "")}${d.window ? `，座席 ${esc(d.window)}号窗口` : ""}`;
  }
  if (entry.action === "device.issue") return `${esc(DEVICE[d.kind] || d.kind || "")} 「${esc(d.name || "")}」`;
  return Object.entries(d).map(([k, v]) => `${esc(FIELD[k] || k)}：${esc(typeof v === "object" ? JSON.stringify(v) : v)}`).join("；");
}

const CATEGORY = { window: ["window."], staff: ["staff."], device: ["device."], auth: ["auth."] };
function inCategory(action, cat) {
  if (!cat) return true;
  if (cat === "other") return !Object.values(CATEGORY).flat().some((p) => action.startsWith(p));
  return CATEGORY[cat].some((p) => action.startsWith(p));
}

export function renderAudit() {
  if (!state.audit.length && state.view !== "audit") return;
  const q = $("audit-search").value.trim().toLowerCase();
  const rows = state.audit.filter((e) => inCategory(e.action, state.auditFilter)).map((e) => {
    const [label, tone] = ACTION[e.action] || [e.action, ""];
    return { e, label, tone, actor: actorText(e.actor), target: targetText(e.target), detail: detailText(e) };
  }).filter((r) => !q || `${r.label} ${r.actor} ${r.target} ${r.detail} ${r.e.actor}`.toLowerCase().includes(q));
  $("audit-note").textContent = state.audit.length ? `最近 ${state.audit.length} 条，显示 ${rows.length} 条` : "";
  $("audit-rows").innerHTML = rows.map((r) => `<tr data-action="${esc(r.e.action)}">
      <td class="num nowrap">${fmtDateTime(r.e.at)}</td>
      <td class="nowrap">${r.actor}</td>
      <td class="nowrap"><span class="tag${r.tone ? ` tag-${r.tone}` : ""}" title="${esc(r.e.action)}">${esc(r.label)}</span></td>
      <td class="nowrap">${r.target}</td>
      <td class="detail">${r.detail}</td></tr>`).join("") || `<tr><td colspan="5" class="empty">没有符合条件的记录</td></tr>`;
}

export function wireAudit() {
  $("audit-refresh").addEventListener("click", loadAudit);
  $("audit-search").addEventListener("input", renderAudit);
  $("audit-filter").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-filter]");
    if (!btn) return;
    state.auditFilter = btn.dataset.filter;
    for (const b of $("audit-filter").children) b.setAttribute("aria-pressed", String(b === btn));
    renderAudit();
  });
  setInterval(() => { if (state.view === "audit" && !document.hidden) loadAudit(); }, AUDIT_MS);
}
