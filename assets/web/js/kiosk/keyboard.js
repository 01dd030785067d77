// The one-finger Chinese keyboard of the kiosk: letters typed as pinyin, a candidate bar of Hanzi
// (words first), digits and a few signs for addresses; 英文 mode types letters as they are.
// Used for the merged form's text fields that identity cannot fill (address, contact person …).
import { esc } from "../live.js";
import { candidates, loadIme } from "./ime.js";

const $ = (id) => document.getElementById(id);
const ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
const SIGNS = ["-", "#", "（", "）", "，"];
const PAGE = 7; // candidates shown at once: big enough for an unsteady finger

let current = null; // {text, input, page, mode, max, ime, resolve}

function keyHtml(k, cls = "") {
  return `<button type="button" class="k-key ${cls}" data-k="${esc(k)}">${esc(k)}</button>`;
}

function renderKeys() {
  const composing = Boolean(current.input);
  $("kb-keys").innerHTML = ROWS.map((row, i) => `<div class="k-kb-row${i === 0 ? " k-kb-digits" : ""}">`
    + [...row].map((k) => keyHtml(current.mode === "en" && i > 0 ? k.toUpperCase() : k,
      i === 0 && composing ? "k-key-off" : "")).join("")
    + (i === 3 ? `<button type="button" class="k-key k-key-del" data-k="⌫">删除</button>` : "")
    + "</div>").join("")
    + `<div class="k-kb-row k-kb-bottom">`
    + `<button type="button" class="k-key k-key-mode" data-k="mode">${current.mode === "py" ? "拼音 ▸ 英文" : "英文 ▸ 拼音"}</button>`
    + SIGNS.map((k) => keyHtml(k, composing ? "k-key-off" : "")).join("")
    + `<button type="button" class="k-key k-key-space" data-k=" ">${composing ? "选第一个" : "空格"}</button></div>`;
}

function renderCands() {
  const el = $("kb-cands");
  if (current.mode !== "py" || !current.input) {
    el.innerHTML = `<span class="k-kb-tip">${current.mode === "py" ? "按拼音字母，在这里选字" : "英文字母模式"}</span>`;
    return;
  }
  if (!current.ime) {
    el.innerHTML = `<span class="k-kb-tip">${current.imeError ? "拼音字库未能加载，请改用英文字母或联系工作人员" : "正在加载字库…"}</span>`;
    return;
  }
  const all = candidates(current.ime, current.input);
  const pages = Math.max(1, Math.ceil(all.length / PAGE));
  current.page = Math.min(current.page, pages - 1);
  const shown = all.slice(current.page * PAGE, (current.page + 1) * PAGE);
  current.shown = shown;
  el.innerHTML = `<button type="button" class="k-cand-nav" data-nav="-1" ${current.page ? "" : "disabled"} aria-label="上一页">‹</button>`
    + (shown.length ? shown.map((c, i) => `<button type="button" class="k-cand" data-c="${i}">${esc(c.text)}</button>`).join("")
      : `<span class="k-kb-tip">没有这个拼音，请按“删除”修改</span>`)
    + `<button type="button" class="k-cand-nav" data-nav="1" ${current.page < pages - 1 ? "" : "disabled"} aria-label="下一页">›</button>`;
}

function render() {
  $("kb-text").textContent = current.text;
  $("kb-input").textContent = current.input;
  $("kb-show").dataset.empty = current.text || current.input ? "0" : "1";
  renderCands();
  renderKeys();
}

function commit(c) {
  if (!c || [...current.text].length >= current.max) return;
  current.text += c.text;
  current.input = current.input.slice(c.take);
  current.page = 0;
}

function press(k) {
  const composing = Boolean(current.input);
  if (k === "⌫") {
    if (composing) current.input = current.input.slice(0, -1);
    else current.text = [...current.text].slice(0, -1).join("");
    current.page = 0;
  } else if (k === "mode") {
    current.mode = current.mode === "py" ? "en" : "py";
    if (current.input) { current.text += current.input; current.input = ""; }
  } else if (k === " ") {
    if (composing) commit(current.shown?.[0]);
    else if (current.text && [...current.text].length < current.max) current.text += " ";
  } else if (/^[a-z]$/i.test(k) && current.mode === "py") {
    if (current.input.length < 30) current.input += k.toLowerCase();
    current.page = 0;
  } else if (!composing && [...current.text].length < current.max) {
    current.text += k;
  }
  render();
}

/** Open the keyboard for a text field; resolves to the text, or null when cancelled. */
export function openKeyboard({ label, value = "", hint = "", max = 100 }) {
  if (current) current.resolve(null);
  $("kb-label").textContent = label;
  $("kb-hint").textContent = hint || "按拼音字母后在上方选字；门牌号等数字直接按数字键";
  $("kb").hidden = false;
  return new Promise((resolve) => {
    const finish = (result) => {
      $("kb").hidden = true;
      $("kb-text").textContent = "";
      $("kb-input").textContent = "";
      $("kb-cands").innerHTML = "";
      current = null;
      resolve(result);
    };
    current = { text: String(value), input: "", page: 0, mode: "py", max, ime: null, resolve: finish };
    const mine = current;
    render();
    loadIme().then((ime) => { if (current === mine) { mine.ime = ime; render(); } })
      .catch(() => { if (current === mine) { mine.imeError = true; render(); } });
  });
}

/** Close an open keyboard (idle timeout): what was typed is dropped. */
export function closeKeyboard() {
  if (current) current.resolve(null);
}

export function initKeyboard() {
  $("kb-keys").addEventListener("click", (event) => {
    const key = event.target.closest("[data-k]");
    if (key && current && !key.classList.contains("k-key-off")) press(key.dataset.k);
  });
  $("kb-cands").addEventListener("click", (event) => {
    if (!current) return;
    const nav = event.target.closest("[data-nav]");
    if (nav) { current.page += Number(nav.dataset.nav); render(); return; }
    const cand = event.target.closest("[data-c]");
    if (cand) { commit(current.shown?.[Number(cand.dataset.c)]); render(); }
  });
  $("kb-ok").addEventListener("click", () => {
    if (!current) return;
    const text = (current.text + current.input).trim();
    current.resolve(text);
  });
  $("kb-cancel").addEventListener("click", () => { if (current) current.resolve(null); });
  $("kb-clear").addEventListener("click", () => { if (current) { current.text = ""; current.input = ""; render(); } });
}
