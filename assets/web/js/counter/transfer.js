// The transfer dialog (to another bundle or window) and, for managers, which window to act for.
import { esc } from "../live.js";
import { render } from "./render.js";
import { $, allowed, api, apiError, state, toast } from "./state.js";
import { refreshSoon } from "./sync.js";

const transfer = { tab: "bundle", bundles: null, windows: null };

async function hallLists() {
  const [bundles, windows] = await Promise.all([
    api.get(`/halls/${encodeURIComponent(state.hall)}/bundles`),
    api.get(`/halls/${encodeURIComponent(state.hall)}/windows`),
  ]);
  transfer.bundles = bundles.bundles;
  transfer.windows = windows.windows;
}

export function selectTab(tab) {
  transfer.tab = tab;
  for (const b of document.querySelectorAll("#transfer-dialog [role=tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  for (const p of document.querySelectorAll("#transfer-dialog [data-panel]")) p.hidden = p.dataset.panel !== tab;
  if (tab === "window") $("tr-window").focus();
}

function fillTransfer() {
  const cur = state.win.current;
  $("tr-bundles").innerHTML = transfer.bundles.map((b) => {
    const same = b.code === cur.bundle;
    const closed = !b.open_windows;
    return `<label class="choice"><input type="radio" name="tr-bundle" value="${esc(b.code)}" ${same ? "disabled" : ""}>`
      + `<span class="prefix">${esc(b.prefix)}</span><b>${esc(b.name.replace(/一件事$/, ""))}</b>`
      + `<small>${same ? "当前事项" : closed ? "暂无开放窗口" : `等候 ${b.waiting} 人 · ${b.open_windows} 个窗口`}</small></label>`;
  }).join("");
  $("tr-windows").innerHTML = transfer.windows.map((w) => {
    const self = w.id === state.windowId;
    return `<button type="button" class="choice${self || !w.open ? " disabled" : ""}" data-window="${w.number}" ${self || !w.open ? "disabled" : ""}>`
      + `<b>${w.number}号窗口</b><small>${esc(w.name)}${self ? " · 本窗口" : !w.open ? " · 未开放" : w.paused ? " · 暂停中" : ""}</small></button>`;
  }).join("");
}

export async function openTransfer() {
  if (!allowed("transfer")) return;
  const dialog = $("transfer-dialog");
  $("tr-number").textContent = state.win.current.number;
  $("tr-window").value = "";
  selectTab("bundle");
  dialog.showModal();
  try {
    await hallLists();
    fillTransfer();
  } catch (e) {
    $("tr-bundles").innerHTML = `<div class="empty">${esc(e.message)}</div>`;
  }
}

export async function submitTransfer(event) {
  event.preventDefault();
  let body;
  let where;
  if (transfer.tab === "bundle") {
    const picked = document.querySelector("input[name=tr-bundle]:checked");
    if (!picked) { toast("请选择要转到的事项", "error"); return; }
    body = { bundle: picked.value };
    where = transfer.bundles.find((b) => b.code === picked.value)?.name || picked.value;
  } else {
    const number = Number.parseInt($("tr-window").value, 10);
    if (!Number.isInteger(number) || number < 1) { toast("请输入目标窗口号", "error"); $("tr-window").focus(); return; }
    body = { window: number };
    where = `${number}号窗口`;
  }
  const number = state.win.current?.number;
  $("tr-ok").disabled = true;
  state.busy = "transfer";
  state.seq += 1;
  try {
    await api.post(`/windows/${state.windowId}/transfer`, body);
    $("transfer-dialog").close();
    state.win = { ...state.win, current: null };
    toast(`${number} 已转至 ${where}`, "ok");
  } catch (e) {
    apiError(e);
  } finally {
    $("tr-ok").disabled = false;
    state.busy = null;
    state.seq += 1;
    render();
    refreshSoon(0);
  }
}

export async function pickWindow() {
  const dialog = $("window-dialog");
  if (!dialog.open) dialog.showModal();
  try {
    if (!transfer.windows) transfer.windows = (await api.get(`/halls/${encodeURIComponent(state.hall)}/windows`)).windows;
    $("wd-windows").innerHTML = transfer.windows.map((w) => `<button type="button" class="choice${w.id === state.windowId ? " selected" : ""}" data-pick="${w.id}" data-number="${w.number}">`
      + `<b>${w.number}号窗口</b><small>${esc(w.name)}${!w.open ? " · 未开放" : w.paused ? " · 暂停中" : ""}</small></button>`).join("");
  } catch (e) {
    $("wd-windows").innerHTML = `<div class="empty">${esc(e.message)}</div>`;
  }
}
