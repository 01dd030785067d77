// 设备令牌: device tokens, issued (the token shown once) and revoked.
import { esc } from "../live.js";
import { renderAudit } from "./audit.js";
import { ago, fmtDateTime } from "./format.js";
import { $, api, DEVICE, HALL, state } from "./state.js";
import { apiError, confirmBox, toast } from "./ui.js";

export async function loadDevices() {
  try {
    const data = await api.get(`/halls/${encodeURIComponent(HALL)}/devices`);
    state.devices = (data.devices || []).sort((a, b) => b.id - a.id);
    renderDevices();
    renderAudit();
  } catch (e) {
    apiError(e);
  }
}

function renderDevices() {
  const showRevoked = $("dev-show-revoked").checked;
  const active = state.devices.filter((d) => !d.revoked_at).length;
  $("dev-count").textContent = `${active} 台有效 / 共 ${state.devices.length}`;
  $("nav-devices").textContent = active ? String(active) : "";
  $("dev-rows").innerHTML = state.devices.filter((d) => showRevoked || !d.revoked_at).map((d) => `
    <tr data-device="${d.id}" class="${d.revoked_at ? "inactive" : ""}">
      <td class="num">#${d.id}</td>
      <td><span class="tag dev-${esc(d.kind)}">${esc(DEVICE[d.kind] || d.kind)}</span></td>
      <td>${esc(d.name)}</td>
      <td class="num">${fmtDateTime(d.created_at)}</td>
      <td>${d.revoked_at ? `<span class="dim">—</span>` : esc(ago(d.last_seen_at))}</td>
      <td>${d.revoked_at ? `<span class="pill st-off" title="${fmtDateTime(d.revoked_at)}">已注销 ${fmtDateTime(d.revoked_at).slice(5, 16)}</span>` : `<span class="pill st-on">有效</span>`}</td>
      <td class="r acts">${d.revoked_at ? "" : `<button class="btn btn-sm btn-ghost-danger" type="button" data-act="revoke">注销</button>`}</td>
    </tr>`).join("") || `<tr><td colspan="7" class="empty">尚未签发设备令牌</td></tr>`;
}

function usageOf(kind) {
  const origin = window.location.origin;
  if (kind === "kiosk") return `用法：在自助终端运行 govhall kiosk --server ${origin} --token <令牌>`;
  if (kind === "display") return "用法：配置到显示屏的启动参数中（如 systemd 单元的令牌设置）。";
  return "用法：配置到好差评评价器的启动参数中。";
}

async function issueDevice(ev) {
  ev.preventDefault();
  const kind = $("dev-kind").value;
  const name = $("dev-name").value.trim();
  if (!name) { toast("请填写设备名称，便于日后识别和注销", "error"); $("dev-name").focus(); return; }
  $("dev-issue").disabled = true;
  try {
    const d = await api.post(`/halls/${encodeURIComponent(HALL)}/devices`, { kind, name });
    $("dev-name").value = "";
    $("tk-device").textContent = `#${d.id} · ${DEVICE[d.kind] || d.kind} · ${d.name}`;
    $("token-value").value = d.token;
    $("tk-use").textContent = usageOf(d.kind);
    $("tk-copied").textContent = "";
    $("token-dialog").showModal();
    $("token-value").select();
    toast(`已签发「${d.name}」的设备令牌`, "ok");
  } catch (e) {
    apiError(e);
  } finally {
    $("dev-issue").disabled = false;
  }
}

async function copyToken() {
  const input = $("token-value");
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.select();
    try { ok = document.execCommand("copy"); } catch { ok = false; }
  }
  $("tk-copied").textContent = ok ? "✓ 已复制到剪贴板" : "无法自动复制，请选中令牌后按 Ctrl+C";
  $("tk-copied").className = `grow ${ok ? "ok" : "bad"}`;
}

async function revokeDevice(row) {
  const d = state.devices.find((x) => String(x.id) === row.dataset.device);
  if (!d) return;
  const ok = await confirmBox({ title: `注销设备令牌 #${d.id}`, ok: "注销令牌",
    text: `注销后「${d.name}」（${DEVICE[d.kind] || d.kind}）立即无法连接服务器，此操作不可撤销；恢复使用需重新签发令牌。` });
  if (!ok) return;
  try {
    await api.del(`/halls/${encodeURIComponent(HALL)}/devices/${d.id}`);
    toast(`已注销「${d.name}」的设备令牌`, "ok");
  } catch (e) {
    apiError(e);
  }
  await loadDevices();
}

export function wireDevices() {
  // the token is shown once: the dialog closes only by its button, never by Esc by mistake
  $("token-dialog").addEventListener("cancel", (ev) => ev.preventDefault());
  $("token-dialog").addEventListener("close", () => {
    $("token-value").value = "";
    $("tk-use").textContent = "";
    loadDevices();
  });
  $("dev-form").addEventListener("submit", issueDevice);
  $("token-copy").addEventListener("click", copyToken);
  $("dev-show-revoked").addEventListener("change", renderDevices);
  $("dev-rows").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act='revoke']");
    if (btn) revokeDevice(btn.closest("tr"));
  });
}
