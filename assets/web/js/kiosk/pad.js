// The on-screen pad: one finger, no keyboard. Digits for numbers, phones, dates and ID numbers;
// letters and digits for codes and (for now) text typed in pinyin or letters.
const $ = (id) => document.getElementById(id);

const LAYOUTS = {
  digits: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", "⌫"],
  id: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0", "⌫"],
  appno: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "-", "0", "⌫"],
  letters: [..."1234567890QWERTYUIOPASDFGHJKLZXCVBNM", " ", "⌫"],
};

// type of a form field → [layout, max length, hint]
export const KINDS = {
  phone: ["digits", 11, "请输入11位手机号码"],
  number: ["digits", 12, "请输入数字"],
  bank_card: ["digits", 19, "请输入银行卡号（12至19位数字）"],
  id_number: ["id", 18, "请输入18位公民身份号码"],
  date: ["digits", 8, "请依次输入年月日，例如 19800105"],
  credit_code: ["letters", 18, "请输入18位统一社会信用代码"],
  appno: ["appno", 15, "申请编号已带 SQ 开头，请输入后面的数字"],
  text: ["letters", 60, "可用拼音或字母填写，窗口工作人员会与您核对"],
  address: ["letters", 100, "可用拼音填写，窗口工作人员会与您核对"],
};

/** What the pad shows for `value` of `kind` (dates as 1980-01-05). */
export function shown(kind, value) {
  const v = String(value ?? "");
  if (kind === "date" && /^\d{8}$/.test(v)) return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}`;
  return v;
}

let current = null;

/** Open the pad for a field; resolves to the entered text, or null when cancelled. */
export function openPad({ label, kind = "text", value = "", prefix = "" }) {
  const [layout, max, hint] = KINDS[kind] || KINDS.text;
  const keys = LAYOUTS[layout];
  let text = kind === "date" ? String(value).replace(/-/g, "") : String(value).slice(prefix.length);
  $("pad-label").textContent = label;
  $("pad-hint").textContent = hint;
  $("pad-keys").className = `k-pad-keys k-pad-${layout}`;
  $("pad-keys").innerHTML = keys.map((k) => (k ? `<button type="button" class="k-key${k === "⌫" ? " k-key-del" : ""}${k === " " ? " k-key-space" : ""}" data-k="${k}">${k === " " ? "空格" : k === "⌫" ? "删除" : k}</button>` : "<span></span>")).join("");
  const render = () => {
    $("pad-show").textContent = prefix + shown(kind, text) || "";
    $("pad-show").dataset.empty = text ? "0" : "1";
  };
  render();
  $("pad").hidden = false;
  if (current) current.resolve(null);
  return new Promise((resolve) => {
    const finish = (result) => {
      $("pad").hidden = true;
      $("pad-keys").onclick = null;
      $("pad-ok").onclick = null;
      $("pad-cancel").onclick = null;
      current = null;
      resolve(result);
    };
    current = { resolve: finish };
    $("pad-keys").onclick = (event) => {
      const key = event.target.closest("[data-k]")?.dataset.k;
      if (key === undefined) return;
      if (key === "⌫") text = text.slice(0, -1);
      else if (text.length < max) text += key;
      render();
    };
    $("pad-ok").onclick = () => finish(kind === "date" ? shown(kind, text) : (prefix + text).trim());
    $("pad-cancel").onclick = () => finish(null);
  });
}

/** Close an open pad (idle timeout): what was typed is dropped. */
export function closePad() {
  if (current) current.resolve(null);
  $("pad-show").textContent = "";
}
