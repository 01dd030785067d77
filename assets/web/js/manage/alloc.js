// 窗口分配: the allocation matrix and the editor of one window's bundles and ranks, with the effect
// on open windows per bundle shown before saving.
import { esc } from "../live.js";
import { fmtTime } from "./format.js";
import { onWindowUpdated } from "./hall.js";
import {
  $,
  api,
  bundleOf,
  catalogue,
  HALL,
  KIND_CLASS,
  rankLabel,
  serving,
  shortName,
  STATE,
  state,
  windows,
  windowState,
} from "./state.js";
import { apiError, confirmBox, toast } from "./ui.js";


function selectAllocWindow(number, { force = false } = {}) {
  const a = state.alloc;
  if (!force && a.number !== null && a.number !== number && isDirty()) {
    confirmBox({ title: "放弃未保存的修改？", ok: "放弃修改",
      text: `${a.number}号窗口的分配修改尚未保存，切换窗口将放弃这些修改。` }).then((ok) => {
      if (ok) selectAllocWindow(number, { force: true });
      else $("alloc-window").value = String(a.number);
    });
    return;
  }
  const w = windows().find((x) => x.number === number);
  if (!w) return;
  a.number = number;
  a.base = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
  a.draft = new Map(a.base);
  a.stale = false;
  if (a.saved && a.saved.number !== number) a.saved = null;
  try { sessionStorage.setItem("govhall.manage.allocWindow", String(number)); } catch { /* ignore */ }
  renderAlloc();
}

/** Someone (or this page) changed the edited window: follow it unless the manager is mid-edit. */
export function syncEditorFrom(w) {
  const a = state.alloc;
  const incoming = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
  if (sameMap(incoming, a.base)) return;
  if (isDirty() && !sameMap(incoming, a.draft)) {
    a.base = incoming;
    a.stale = true;
    return;
  }
  a.base = incoming;
  a.draft = new Map(incoming);
  a.stale = false;
}

const sameMap = (x, y) => x.size === y.size && [...x].every(([k, v]) => y.get(k) === v);
const isDirty = () => !sameMap(state.alloc.base, state.alloc.draft);

export function diffOf(base, draft) {
  const added = [...draft.keys()].filter((c) => !base.has(c));
  const removed = [...base.keys()].filter((c) => !draft.has(c));
  const changed = [...draft.keys()].filter((c) => base.has(c) && base.get(c) !== draft.get(c));
  return { added, removed, changed };
}

/** Open windows that would serve each bundle once the draft is saved (the edited window included). */
function openAfter(code) {
  const a = state.alloc;
  return windows().filter((w) => serving(w)
    && (w.number === a.number ? a.draft.has(code) : (w.bundles || []).some((b) => b.code === code))).length;
}
const openNow = (code) => windows().filter((w) => serving(w) && (w.bundles || []).some((b) => b.code === code)).length;

export function renderAlloc() {
  if (!state.live) return;
  renderMatrix();
  renderPicker();
  renderEditor();
}

function renderPicker() {
  const sel = $("alloc-window");
  const wins = windows();
  const key = wins.map((w) => `${w.number}:${w.name}:${w.open}`).join("|");
  if (sel.dataset.key !== key) {
    sel.dataset.key = key;
    sel.innerHTML = wins.map((w) => `<option value="${w.number}">${w.number}号 · ${esc(w.name)}${w.open ? "" : "（关闭）"}</option>`).join("");
  }
  if (state.alloc.number === null && wins.length) {
    const remembered = Number(sessionStorage.getItem("govhall.manage.allocWindow"));
    selectAllocWindow(wins.some((w) => w.number === remembered) ? remembered : wins[0].number, { force: true });
    return;
  }
  sel.value = String(state.alloc.number);
}

function renderMatrix() {
  const cols = catalogue();
  const wins = windows();
  const a = state.alloc;
  const head = `<thead><tr><th class="corner">窗口 \\ 一件事</th>${cols.map((b) =>
    `<th class="mcol" title="${esc(b.name)}"><span class="cn">${esc(shortName(b.name))}</span><span class="cp">${esc(b.prefix)}</span></th>`).join("")}</tr></thead>`;
  const rows = wins.map((w) => {
    const ranks = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
    const s = windowState(w);
    const cells = cols.map((b) => {
      const r = ranks.get(b.code);
      return r ? `<td><i class="rk rk${Math.min(r, 3)}" title="${w.number}号窗口 · ${esc(shortName(b.name))} · ${rankLabel(r)}">${r}</i></td>` : "<td></td>";
    }).join("");
    return `<tr data-window="${w.number}" class="${w.number === a.number ? "sel" : ""}${w.open ? "" : " closed"}" tabindex="0">
      <th class="rh"><span class="dot" data-state="${s}" title="${STATE[s]}"></span><b class="num">${w.number}</b><span title="${esc(w.name)}">${esc(w.name)}</span></th>${cells}</tr>`;
  }).join("");
  const foot = `<tfoot><tr class="sum"><th class="rh">开放窗口数</th>${cols.map((b) => {
    const n = openNow(b.code);
    return `<td class="num${n ? "" : " bad"}">${n}</td>`;
  }).join("")}</tr><tr class="sum"><th class="rh">当前等候</th>${cols.map((b) => {
    const n = bundleOf(b.code).waiting || 0;
    return `<td class="num${n ? " has" : ""}">${n || ""}</td>`;
  }).join("")}</tr></tfoot>`;
  $("matrix").innerHTML = head + `<tbody>${rows}</tbody>` + foot;
}

function renderEditor() {
  const a = state.alloc;
  const w = windows().find((x) => x.number === a.number);
  if (!w) { $("alloc-list").innerHTML = `<li class="empty">请选择窗口</li>`; return; }
  const s = windowState(w);
  $("ed-title").innerHTML = `<span class="ed-no num">${w.number}号窗口</span><span class="ed-name">${esc(w.name)}</span>`
    + `<span class="kind ${KIND_CLASS[w.kind] || ""}">${esc(w.kind || "窗口")}</span><span class="pill w-state" data-state="${s}">${STATE[s]}</span>`
    + (w.open ? "" : `<span class="ed-note">窗口关闭中：保存的分配在窗口开放后生效</span>`);
  const rows = catalogue().map((b) => {
    const r = a.draft.get(b.code);
    const on = r !== undefined;
    const baseRank = a.base.get(b.code);
    const changed = baseRank !== r;
    const ranks = [1, 2, 3];
    if (r && !ranks.includes(r)) ranks.push(r);
    const seg = ranks.map((k) => `<label data-rank="${k}" class="${r === k ? "on" : ""}"><input type="radio" name="rank-${esc(b.code)}" value="${k}" ${r === k ? "checked" : ""} ${on ? "" : "disabled"}>${k} ${rankLabel(k)}</label>`).join("");
    const info = bundleOf(b.code);
    const before = openNow(b.code);
    const after = openAfter(b.code);
    const delta = before !== after ? `<span class="delta ${after < before ? "down" : "up"}">→ ${after}</span>` : "";
    return `<li data-bundle="${esc(b.code)}" class="${on ? "on" : "off"}${changed ? " changed" : ""}">
      <label class="ck"><input type="checkbox" ${on ? "checked" : ""} aria-label="${esc(b.name)}"><span class="pfx">${esc(b.prefix)}</span><span class="bn" title="${esc(b.name)}">${esc(b.name)}</span></label>
      <span class="ed-stat">等候 <b class="num">${info.waiting || 0}</b> · 开放窗口 <b class="num${after ? "" : " bad"}">${before}</b>${delta}</span>
      <span class="rank-seg" role="radiogroup" aria-label="优先级">${seg}</span></li>`;
  }).join("");
  $("alloc-list").innerHTML = rows;

  const { added, removed, changed } = diffOf(a.base, a.draft);
  const dirty = added.length + removed.length + changed.length > 0;
  $("alloc-diff").innerHTML = dirty
    ? `已修改：${[added.length && `新增 <b>${added.length}</b> 项`, removed.length && `移除 <b>${removed.length}</b> 项`,
      changed.length && `调整优先级 <b>${changed.length}</b> 项`].filter(Boolean).join("，")}`
    : `未修改 · 共受理 <b>${a.base.size}</b> 项`;
  $("alloc-save").disabled = !dirty;
  $("alloc-reset").disabled = !dirty;

  const warnings = [];
  if (a.stale) warnings.push("该窗口的分配刚被他人修改，保存将覆盖对方的修改；如需查看最新分配请点击「撤销修改」。");
  if (dirty && a.draft.size === 0) warnings.push("保存后该窗口将不受理任何事项，无法叫号。");
  const orphan = catalogue().filter((b) => a.base.has(b.code) && !a.draft.has(b.code) && openAfter(b.code) === 0 && openNow(b.code) > 0);
  if (dirty && orphan.length) {
    warnings.push(`保存后以下一件事将没有开放窗口受理：${orphan.map((b) => `「${esc(shortName(b.name))}」${bundleOf(b.code).waiting ? `（${bundleOf(b.code).waiting} 人等候）` : ""}`).join("、")}`);
  }
  $("alloc-warn").hidden = warnings.length === 0;
  $("alloc-warn").innerHTML = warnings.map((t) => `<p>${t}</p>`).join("");

  const saved = a.saved;
  $("alloc-saved").hidden = !saved || saved.number !== a.number;
  if (saved && saved.number === a.number) {
    const chips = saved.bundles.slice().sort((x, y) => x.rank - y.rank)
      .map((b) => `<span class="sv r${Math.min(b.rank, 3)}">${esc(shortName(b.name))}<small>${rankLabel(b.rank)}</small></span>`).join("")
      || "<span class=\"sv\">不受理任何事项</span>";
    $("alloc-saved").innerHTML = `<div class="sv-head"><b>✓ 已生效</b> ${fmtTime(saved.at)} 保存，${saved.number}号窗口现在受理：</div><div class="sv-list">${chips}</div>`;
  }
}

async function saveAllocation() {
  const a = state.alloc;
  const number = a.number;
  const body = { bundles: [...a.draft].map(([code, rank]) => ({ code, rank })) };
  if (!body.bundles.length && !(await confirmBox({ title: "确认清空分配？", ok: "仍然保存",
    text: `${number}号窗口将不受理任何事项，叫号时不会叫到任何号码。` }))) return;
  $("alloc-save").disabled = true;
  $("alloc-save").classList.add("busy");
  try {
    const w = await api.put(`/halls/${encodeURIComponent(HALL)}/windows/${number}/bundles`, body);
    a.saved = { number, bundles: w.bundles || [], at: new Date().toISOString() };
    const old = windows().find((x) => x.number === number);
    a.base = new Map((w.bundles || []).map((b) => [b.code, b.rank]));
    a.draft = new Map(a.base);
    a.stale = false;
    onWindowUpdated({ window: { ...(old || {}), ...w } });
    toast(`${number}号窗口分配已保存，立即生效（共 ${a.base.size} 项）`, "ok");
  } catch (e) {
    apiError(e);
    renderEditor();
  } finally {
    $("alloc-save").classList.remove("busy");
  }
}

export function wireAlloc() {
  $("alloc-window").addEventListener("change", (ev) => selectAllocWindow(Number(ev.target.value)));
  $("matrix").addEventListener("click", (ev) => {
    const row = ev.target.closest("tbody tr[data-window]");
    if (row) selectAllocWindow(Number(row.dataset.window));
  });
  $("matrix").addEventListener("keydown", (ev) => {
    const row = ev.target.closest("tbody tr[data-window]");
    if (row && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); selectAllocWindow(Number(row.dataset.window)); }
  });
  $("alloc-list").addEventListener("change", (ev) => {
    const li = ev.target.closest("li[data-bundle]");
    if (!li) return;
    const code = li.dataset.bundle;
    const a = state.alloc;
    if (ev.target.type === "checkbox") {
      if (ev.target.checked) a.draft.set(code, a.base.get(code) || 1); else a.draft.delete(code);
    } else if (ev.target.type === "radio") {
      a.draft.set(code, Number(ev.target.value));
    }
    renderAlloc();
  });
  $("alloc-all").addEventListener("click", () => {
    for (const b of catalogue()) if (!state.alloc.draft.has(b.code)) state.alloc.draft.set(b.code, state.alloc.base.get(b.code) || 1);
    renderAlloc();
  });
  $("alloc-none").addEventListener("click", () => { state.alloc.draft.clear(); renderAlloc(); });
  $("alloc-reset").addEventListener("click", () => {
    const w = windows().find((x) => x.number === state.alloc.number);
    if (w) selectAllocWindow(w.number, { force: true });
  });
  $("alloc-save").addEventListener("click", saveAllocation);
  window.addEventListener("beforeunload", (ev) => {
    if (isDirty()) { ev.preventDefault(); ev.returnValue = ""; }
  });
}
