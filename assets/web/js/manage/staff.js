// 工作人员: staff accounts, their dialogs (create, edit, reset password) and activation.
import { esc } from "../live.js";
import { renderAudit } from "./audit.js";
import { randomPassword } from "./format.js";
import { $, api, HALL, isAdmin, ROLE, staff, state, windows } from "./state.js";
import { apiError, confirmBox, errorText, toast } from "./ui.js";

const naturally = (a, b) => a.localeCompare(b, "zh-CN", { numeric: true });
const ROLE_ORDER = { admin: 0, manager: 1, clerk: 2, assistant: 3 };

export async function loadStaff() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/staff`);
    state.staff = (data.staff || []).sort((a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || naturally(a.username, b.username));
    renderStaff();
    renderAudit();
  } catch (e) {
    apiError(e);
  }
}

function windowLabel(number) {
  if (number === null || number === undefined) return "";
  const w = windows().find((x) => x.number === number);
  return w ? `${number}号 · ${w.name}` : `${number}号窗口`;
}

function renderStaff() {
  const q = $("staff-search").value.trim().toLowerCase();
  const role = $("staff-role-filter").value;
  const list = state.staff.filter((s) => (!role || s.role === role)
    && (!q || `${s.username} ${s.name} ${s.window ?? ""}号`.toLowerCase().includes(q)));
  const active = state.staff.filter((s) => s.active).length;
  $("staff-count").textContent = `${active} 人启用 / 共 ${state.staff.length}`;
  $("nav-staff").textContent = active ? String(active) : "";
  $("staff-rows").innerHTML = list.map((s) => {
    const locked = s.role === "admin" && !isAdmin;
    const self = s.username === staff.username;
    const seat = s.window ? esc(windowLabel(s.window)) : `<span class="dim">${s.role === "clerk" ? "未分配" : "不固定"}</span>`;
    const acts = locked ? `<span class="dim">仅系统管理员可修改</span>`
      : `<button class="btn btn-sm" type="button" data-act="edit">编辑</button>`
        + `<button class="btn btn-sm" type="button" data-act="password">重置密码</button>`
        + (s.active
          ? `<button class="btn btn-sm btn-ghost-danger" type="button" data-act="deactivate" ${self ? "disabled title=\"不能停用自己的账号\"" : ""}>停用</button>`
          : `<button class="btn btn-sm" type="button" data-act="activate">启用</button>`);
    return `<tr data-staff="${s.id}" data-username="${esc(s.username)}" class="${s.active ? "" : "inactive"}">
      <td class="mono">${esc(s.username)}${self ? ` <span class="tag tag-blue">本人</span>` : ""}</td>
      <td>${esc(s.name)}</td>
      <td><span class="tag role-${esc(s.role)}">${esc(ROLE[s.role] || s.role)}</span></td>
      <td>${seat}</td>
      <td>${s.active ? `<span class="pill st-on">启用</span>` : `<span class="pill st-off">已停用</span>`}</td>
      <td class="r acts">${acts}</td></tr>`;
  }).join("") || `<tr><td colspan="6" class="empty">没有符合条件的工作人员</td></tr>`;
}

function fillSeatSelect(selected) {
  $("sd-window").innerHTML = `<option value="">不固定座席</option>`
    + windows().map((w) => `<option value="${w.number}">${w.number}号 · ${esc(w.name)}</option>`).join("");
  $("sd-window").value = selected ? String(selected) : "";
}

let editing = null; // the staff member the dialog edits, null when creating
function openStaffDialog(s = null) {
  editing = s;
  const form = $("staff-form");
  form.reset();
  $("sd-error").hidden = true;
  $("sd-title").textContent = s ? `编辑工作人员 · ${s.username}` : "新建工作人员";
  $("sd-ok").textContent = s ? "保存" : "创建";
  $("sd-username").value = s ? s.username : "";
  $("sd-username").disabled = Boolean(s);
  $("sd-name").value = s ? s.name : "";
  for (const opt of $("sd-role").querySelectorAll("[data-admin-only]")) opt.hidden = !isAdmin;
  $("sd-role").value = s ? s.role : "clerk";
  $("sd-role").disabled = Boolean(s && s.username === staff.username); // no locking oneself out
  fillSeatSelect(s ? s.window : null);
  $("sd-password-field").hidden = Boolean(s);
  $("sd-password").value = s ? "" : randomPassword();
  $("sd-foot").textContent = s ? "修改角色或座席后，该人员下次操作即按新设置生效" : "创建后即可用该账号登录";
  $("staff-dialog").showModal();
  (s ? $("sd-name") : $("sd-username")).focus();
}

function staffFormError(text) {
  $("sd-error").textContent = text;
  $("sd-error").hidden = false;
}

async function submitStaff(ev) {
  ev.preventDefault();
  const name = $("sd-name").value.trim();
  const role = $("sd-role").value;
  const seat = $("sd-window").value ? Number($("sd-window").value) : null;
  if (!editing) {
    const username = $("sd-username").value.trim();
    const password = $("sd-password").value;
    if (!/^[A-Za-z0-9_.-]{2,60}$/.test(username)) return staffFormError("用户名应为 2–60 位字母、数字或 ._-");
    if (!name) return staffFormError("请填写姓名");
    if (password.length < 8) return staffFormError("初始密码至少 8 位");
    if (role === "clerk" && seat === null && !(await confirmBox({ title: "未分配座席", ok: "仍然创建", danger: false,
      text: "窗口人员未分配座席时无法叫号，可稍后在「编辑」中分配。" }))) return undefined;
    return sendStaff(() => api.post(`/halls/${encodeURIComponent(HALL)}/staff`, { username, name, password, role, window: seat }),
      `已创建工作人员 ${name}（${username}）`);
  }
  if (!name) return staffFormError("请填写姓名");
  const body = {};
  if (name !== editing.name) body.name = name;
  if (role !== editing.role) body.role = role;
  if (seat !== (editing.window ?? null)) body.window = seat;
  if (!Object.keys(body).length) { $("staff-dialog").close(); return undefined; }
  return sendStaff(() => api.patch(`/halls/${encodeURIComponent(HALL)}/staff/${editing.id}`, body), `已保存 ${name} 的修改`);
}

async function sendStaff(call, done) {
  $("sd-ok").disabled = true;
  try {
    await call();
    $("staff-dialog").close();
    toast(done, "ok");
    await loadStaff();
  } catch (e) {
    if (e.status === 401) apiError(e); else staffFormError(errorText(e));
  } finally {
    $("sd-ok").disabled = false;
  }
}

let resetting = null;
function openPasswordDialog(s) {
  resetting = s;
  $("pw-error").hidden = true;
  $("pw-who").textContent = `为 ${s.name}（${s.username}）设置新密码`;
  $("pw-password").value = randomPassword();
  $("pw-dialog").showModal();
  $("pw-password").select();
}

async function submitPassword(ev) {
  ev.preventDefault();
  const password = $("pw-password").value;
  if (password.length < 8) {
    $("pw-error").textContent = "新密码至少 8 位";
    $("pw-error").hidden = false;
    return;
  }
  $("pw-ok").disabled = true;
  try {
    await api.patch(`/halls/${encodeURIComponent(HALL)}/staff/${resetting.id}`, { password });
    $("pw-dialog").close();
    toast(`已重置 ${resetting.name} 的密码，请将新密码告知本人`, "ok");
    if (resetting.username === staff.username) setTimeout(() => { window.location.href = "/login?next=/manage/"; }, 1500);
  } catch (e) {
    $("pw-error").textContent = errorText(e);
    $("pw-error").hidden = false;
  } finally {
    $("pw-ok").disabled = false;
  }
}

async function staffAction(row, act) {
  const s = state.staff.find((x) => String(x.id) === row.dataset.staff);
  if (!s) return;
  if (act === "edit") return openStaffDialog(s);
  if (act === "password") return openPasswordDialog(s);
  const active = act === "activate";
  if (!active && !(await confirmBox({ title: `停用账号 ${s.username}`, ok: "停用",
    text: `停用后 ${s.name} 将无法登录，已登录的会话立即失效。可随时重新启用。` }))) return undefined;
  try {
    await api.patch(`/halls/${encodeURIComponent(HALL)}/staff/${s.id}`, { active });
    toast(`${s.name}（${s.username}）已${active ? "启用" : "停用"}`, "ok");
    await loadStaff();
  } catch (e) {
    apiError(e);
  }
  return undefined;
}

export function wireStaff() {
  $("staff-new").addEventListener("click", () => openStaffDialog());
  $("staff-form").addEventListener("submit", submitStaff);
  $("pw-form").addEventListener("submit", submitPassword);
  $("staff-search").addEventListener("input", renderStaff);
  $("staff-role-filter").addEventListener("change", renderStaff);
  $("staff-rows").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act]");
    if (btn) staffAction(btn.closest("tr"), btn.dataset.act);
  });
}
