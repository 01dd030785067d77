// Toasts, the Chinese text of API errors, the confirm box and the dialogs' common wiring.
import { toaster } from "../toasts.js";
import { randomPassword } from "./format.js";
import { $, FIELD } from "./state.js";

// ------------------------------------------------------------------ toasts and errors
export const toast = toaster({ keep: 4, okMs: 3500 });

/** The server's message in Chinese (input validation messages come from marshmallow in English). */
export function errorText(e) {
  if (e.status === 401) return "登录已过期，请重新登录";
  let text = String(e.message || "操作失败");
  if (e.status === 403 && !/[\u4e00-\u9fff]/.test(text)) return "没有权限执行此操作";
  if (!/[A-Za-z]{3,}/.test(text)) return text;
  text = text
    .replace(/Length must be between (\d+) and (\d+)\./g, "长度应为 $1–$2 个字符")
    .replace(/Shorter than minimum length (\d+)\./g, "至少 $1 个字符")
    .replace(/Longer than maximum length (\d+)\./g, "最多 $1 个字符")
    .replace(/Must be greater than or equal to (\d+) and less than or equal to (\d+)\./g, "应在 $1–$2 之间")
    .replace(/String does not match expected pattern\./g, "格式不正确（只能包含字母、数字和 ._-）")
    .replace(/Must be one of:[^.;]*\./g, "取值无效")
    .replace(/Missing data for required field\./g, "必填")
    .replace(/Field may not be null\./g, "不能为空")
    .replace(/Not a valid (integer|string|boolean)\./g, "格式不正确")
    .replace(/Unknown field\./g, "不支持的字段")
    .replace(/\{(\d+): /g, (_, i) => `第${Number(i) + 1}项 `)
    .replace(/\b([a-z_]+)\b(?=\s*[:'])/g, (f) => FIELD[f] || f)
    .replace(/[{}[\]']/g, "")
    .replace(/;\s*/g, "；")
    .replace(/: /g, "：");
  return text;
}

export function apiError(e) {
  toast(errorText(e), "error");
  if (e.status === 401) setTimeout(() => { window.location.href = "/login?next=/manage/"; }, 2000);
}

// ------------------------------------------------------------------ dialogs
export function confirmBox({ title = "请确认", text, ok = "确定", danger = true }) {
  const dialog = $("confirm-dialog");
  $("cf-title").textContent = title;
  $("cf-text").textContent = text;
  $("confirm-ok").textContent = ok;
  $("confirm-ok").className = `btn ${danger ? "btn-danger" : "btn-primary"}`;
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

export function wireDialogs() {
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("click", (ev) => {
      if (ev.target.closest("[data-close]")) dialog.close();
    });
  }

  document.addEventListener("click", (ev) => {
    const gen = ev.target.closest("[data-generate]");
    if (gen) {
      const input = $(gen.dataset.generate);
      input.value = randomPassword();
      input.focus();
      input.select();
    }
  });
}
