// The manager console's shared state: who is logged in, the hall's live picture, the bundles seen
// (the catalogue, kept in localStorage), labels in Chinese and the small lookups every view uses.
import { api as makeApi } from "../api.js";

export const RANK = { 1: "主办", 2: "兼办", 3: "补位" };
export const ROLE = { clerk: "窗口人员", manager: "中心管理员", admin: "系统管理员", assistant: "帮办代办" };
export const DEVICE = { kiosk: "自助终端", display: "显示屏", rating_pad: "评价器" };
export const KIND_CLASS = { 综合受理: "k-general", 专窗: "k-special", 帮办代办: "k-helper", 绿色通道: "k-green", 办不成事反映: "k-fail" };
export const STATE = { busy: "服务中", idle: "空闲", paused: "暂停", closed: "关闭" };
export const ACTION = {
  "window.allocation": ["调整窗口分配", "blue"], "window.open": ["开放窗口", "green"],
  "window.close": ["关闭窗口", "red"], "window.pause": ["暂停叫号", "amber"], "window.resume": ["恢复叫号", "green"],
  "staff.create": ["新建工作人员", "blue"], "staff.update": ["修改工作人员", "blue"],
  "device.issue": ["签发设备令牌", "blue"], "device.revoke": ["注销设备令牌", "red"],
  "auth.login": ["登录", ""], "auth.failed": ["登录失败", "red"], "ticket.requeue": ["过号重新排队", ""],
  "application.advance": ["办件流转", ""], "followup.settings": ["差评回访设置", ""],
  "followup.verify": ["差评核实", "amber"], "followup.rectify": ["差评整改", "amber"],
  "followup.callback": ["差评回访", "amber"], "followup.close": ["差评办结", "green"],
  "demo.seed": ["初始化演示大厅", ""], "catalogue.seed": ["导入事项目录", ""],
  "settings.update": ["修改大厅设置", "blue"], "calendar.set": ["设置节假日/调休", "blue"],
  "calendar.delete": ["删除日历例外", "amber"], "advice.generate": ["生成调配建议", ""],
  "assist.file": ["代为提交帮办代办", ""], "assist.claim": ["受理帮办代办", ""],
  "assist.progress": ["记录帮办代办进展", ""], "assist.release": ["退回帮办代办", "amber"],
  "assist.done": ["帮办代办办结", "green"], "assist.cancel": ["取消帮办代办", "red"],
};
export const FIELD = { username: "用户名", name: "姓名", password: "密码", role: "角色", window: "座席窗口",
  active: "启用状态", kind: "设备类型", bundles: "事项", rank: "优先级", code: "事项编码", open: "开放状态" };

export const $ = (id) => document.getElementById(id);
export const staff = JSON.parse($("staff-data").textContent);
export const api = makeApi(staff.token);
export const HALL = staff.hall;
export const isAdmin = staff.role === "admin";

export const state = {
  live: null, // the manager snapshot, kept current by events
  view: "live",
  winFilter: "all",
  catalogue: new Map(), // code -> {code, name, prefix}: every bundle seen, served or not
  alloc: { number: null, base: new Map(), draft: new Map(), saved: null, stale: false },
  staff: [],
  devices: [],
  audit: [],
  auditFilter: "",
};

// ------------------------------------------------------------------ small helpers
export const shortName = (name) => String(name || "").replace(/（.*?）|\(.*?\)/g, "").replace(/一件事$/, "");
const byNumber = (a, b) => a.number - b.number;
export const windows = () => (state.live?.windows || []).slice().sort(byNumber);
export const windowState = (w) => (!w.open ? "closed" : w.paused ? "paused" : w.current ? "busy" : "idle");
export const serving = (w) => w.open && !w.paused;

export function rankLabel(r) { return RANK[r] || `优先级${r}`; }

export function learnCatalogue() {
  const add = (b) => {
    if (!b?.code) return;
    const known = state.catalogue.get(b.code) || {};
    state.catalogue.set(b.code, { code: b.code, name: b.name || known.name || b.code,
      prefix: b.prefix || known.prefix || "" });
  };
  for (const b of state.live.bundles || []) add(b);
  for (const w of state.live.windows || []) for (const b of w.bundles || []) add(b);
  try {
    localStorage.setItem(`govhall.manage.catalogue.${HALL}`, JSON.stringify([...state.catalogue.values()]));
  } catch { /* private mode: the catalogue is relearned on each visit */ }
}

export function catalogue() {
  return [...state.catalogue.values()].sort((a, b) =>
    (a.prefix || "~").localeCompare(b.prefix || "~") || a.name.localeCompare(b.name, "zh-CN"));
}

export function bundleOf(code) {
  return (state.live?.bundles || []).find((b) => b.code === code)
    || { ...(state.catalogue.get(code) || { code, name: code }), waiting: 0, wait_min: null, open_windows: 0 };
}

export function restoreCatalogue() {
  try {
    const saved = JSON.parse(localStorage.getItem(`govhall.manage.catalogue.${HALL}`) || "[]");
    for (const b of saved) if (b?.code) state.catalogue.set(b.code, b);
  } catch { /* a broken entry is relearned from the live data */ }
}

export async function loadCatalogue() {
  // every bundle of the catalogue, served by a window here or not, so the editor can offer it again
  try {
    const { bundles } = await api.get("/bundles");
    for (const b of bundles) if (!state.catalogue.has(b.code)) state.catalogue.set(b.code, b);
  } catch { /* the live data and the saved list still name the bundles in use */ }
}
