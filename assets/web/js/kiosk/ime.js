// Pinyin → Hanzi for the kiosk's on-screen keyboard, built at first use from two npm packages,
// served offline through /static/vendor/: pinyin-pro (every common character's readings) and
// @pinyin-pro/data's modern.json (59k words with their pinyin and a usage probability). Characters
// are the 6,763 of GB 2312 (decoded in the browser), ranked by how much they are used in those words.

const GB2312_ROWS = [0xb0, 0xf7]; // level 1 (3,755, the most used) B0–D7, level 2 D8–F7
const LEVEL2_ROW = 0xd8;

let ready = null;

const plain = (py) => py.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/ü|u\u0308/g, "v").toLowerCase();

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

/** The common characters of GB 2312 with their level (1 or 2), decoded by the browser. */
function gb2312() {
  const decoder = new TextDecoder("gbk");
  const out = [];
  for (let row = GB2312_ROWS[0]; row <= GB2312_ROWS[1]; row += 1) {
    const bytes = [];
    for (let col = 0xa1; col <= 0xfe; col += 1) bytes.push(row, col);
    const text = decoder.decode(new Uint8Array(bytes));
    for (const ch of text) if (ch !== "\ufffd" && /\p{Script=Han}/u.test(ch)) out.push([ch, row < LEVEL2_ROW ? 1 : 2]);
  }
  return out;
}

/** Build the index: pinyin key (no tones, no spaces) → [{text, score}] sorted best first. */
function build(pinyinPro, words) {
  const index = new Map();
  const add = (key, text, score) => {
    let list = index.get(key);
    if (!list) { list = []; index.set(key, list); }
    list.push({ text, score });
  };
  const use = new Map(); // character → how much it is used (its own probability + its words')
  for (const [text, [py, p]] of Object.entries(words)) {
    if ([...text].length > 1) add(plain(py).replace(/\s+/g, ""), text, p);
    for (const ch of text) use.set(ch, (use.get(ch) || 0) + p);
  }
  for (const [ch, level] of gb2312()) {
    const readings = pinyinPro.pinyin(ch, { toneType: "none", type: "array", multiple: true, v: true });
    const score = (use.get(ch) || 0) + (level === 1 ? 1e-12 : 0);
    for (const r of new Set(readings.map(plain))) if (/^[a-z]+$/.test(r)) add(r, ch, score);
  }
  for (const list of index.values()) list.sort((a, b) => b.score - a.score);
  return { index, syllables: [...index.keys()].filter((k) => k.length <= 6) };
}

/** Load the dictionaries once (later calls share the same promise). */
export function loadIme() {
  if (!ready) {
    ready = (async () => {
      if (!window.pinyinPro) await loadScript("/static/vendor/index.js");
      const r = await fetch("/static/vendor/modern.json");
      if (!r.ok) throw new Error(`modern.json: ${r.status}`);
      return build(window.pinyinPro, await r.json());
    })();
    ready.catch(() => { ready = null; }); // a later keyboard may try again
  }
  return ready;
}

/** Candidates for the typed letters: [{text, take}], `take` letters of the input each consumes.
 * Whole-input words first, then words and characters for the longest leading pinyin, then for
 * an unfinished syllable the characters of the syllables it begins. */
export function candidates(ime, input, limit = 60) {
  const out = [];
  const seen = new Set();
  const push = (text, take) => {
    if (seen.has(text) || out.length >= limit) return;
    seen.add(text);
    out.push({ text, take });
  };
  for (let take = input.length; take > 0; take -= 1) {
    for (const c of ime.index.get(input.slice(0, take)) || []) push(c.text, take);
  }
  if (!out.length && input) {
    const starts = ime.syllables.filter((k) => k.startsWith(input));
    const pool = starts.flatMap((k) => (ime.index.get(k) || []).filter((c) => [...c.text].length === 1));
    pool.sort((a, b) => b.score - a.score);
    for (const c of pool) push(c.text, input.length);
  }
  return out;
}
