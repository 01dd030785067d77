// The manager console's 调配建议 view, beside manage/main.js (which shows the views and fires "manage:view"):
// GET /api/v1/halls/{hall}/advice simulates the rest of today from the live queue through the queue
// rules and proposes window allocations that lower the 90th-percentile wait; each proposed change
// can be applied (PUT …/windows/{n}/bundles, audit-logged by the server). The server stores every
// advice, and the view shows the previous day's last advice beside that day's actual waits.
import { api as makeApi } from "./api.js";
import { esc } from "./live.js";
import { toaster } from "./toasts.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const toast = toaster({ keep: 4, okMs: 3500 });
const RANK = { 1: "主办", 2: "兼办" };

const state = { loading: false, advice: null, names: new Map() };

const num = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(1).replace(/\.0$/, ""));
const hhmm = (iso) => { const d = new Date(iso); return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; };
const short = (name) => String(name || "").split("（")[0].replace(/一件事$/, "");
const nameOf = (code) => short(state.names.get(code) || code);

function skeleton() {
  const view = $("view-advice");
  view.innerHTML = `
    <section class="card a-bar">
      <div class="card-head">
        <h2>今日剩余时段窗口调配建议 <span class="muted-note" id="adv-note"></span></h2>
        <div class="toolbar"><button class="btn btn-primary btn-sm" type="button" id="adv-run">重新测算</button></div>
      </div>
      <p class="a-how">按当前排队、开放窗口及其分配、今日实测办理时长和近 7 日各时段到号规律，用叫号规则模拟今日剩余时段（同一批模拟到号比较不同分配），
        给出让 90% 群众等候最短的调整。建议仅供参考，调整后对新叫号立即生效。</p>
    </section>
    <div class="m-tiles a-tiles">
      <div class="tile"><span class="t-label">按现分配 预计 p90 等候</span><b class="t-value num" id="adv-cur">—</b><span class="t-unit">分钟</span><span class="t-sub">&nbsp;</span></div>
      <div class="tile tile-green"><span class="t-label">按建议 预计 p90 等候</span><b class="t-value num" id="adv-new">—</b><span class="t-unit">分钟</span><span class="t-sub" id="adv-gain">&nbsp;</span></div>
      <div class="tile tile-blue"><span class="t-label">建议调整窗口</span><b class="t-value num" id="adv-n">—</b><span class="t-unit">个</span><span class="t-sub" id="adv-open">&nbsp;</span></div>
      <div class="tile"><span class="t-label">测算</span><b class="t-value num" id="adv-evals">—</b><span class="t-unit">种分配</span><span class="t-sub" id="adv-secs">&nbsp;</span></div>
    </div>
    <div class="a-grid">
      <section class="card"><div class="card-head"><h2>各一件事预计等候（分钟）</h2></div>
        <div class="table-wrap"><table class="table a-table" id="adv-bundles">
          <thead><tr><th>一件事</th><th class="r">正在等候</th><th class="r">预计还将取号</th><th class="r">现分配 p50 / p90</th><th class="r">按建议 p50 / p90</th></tr></thead>
          <tbody><tr><td colspan="5" class="empty">正在测算…</td></tr></tbody></table></div></section>
      <section class="card"><div class="card-head"><h2>建议调整</h2><span class="legend"><i class="rk rk1">1</i>主办 <i class="rk rk2">2</i>兼办 <i class="rk rk3">3</i>补位</span></div>
        <ul class="a-changes" id="adv-changes"><li class="empty">正在测算…</li></ul></section>
    </div>
    <section class="card a-prev"><div class="card-head"><h2>上次建议回顾 <span class="muted-note" id="adv-prev-note"></span></h2></div>
      <div id="adv-prev"><div class="empty">正在载入…</div></div></section>`;
  $("adv-run").addEventListener("click", load);
  $("adv-changes").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-window]");
    if (btn) apply(Number(btn.dataset.window), btn);
  });
}

function chips(bundles) {
  if (bundles.length > 5) return `<span class="a-all">综合受理 ${bundles.length} 项</span>`;
  return bundles.map((b) => `<span class="a-chip"><i class="rk rk${Math.min(b.rank, 3)}">${b.rank}</i>${esc(nameOf(b.code))}</span>`).join("");
}

function level(p90) {
  if (p90 === null || p90 === undefined) return "";
  return p90 > 60 ? "a-lv2" : p90 > 30 ? "a-lv1" : "";
}

function render(a) {
  for (const b of a.bundles) state.names.set(b.code, b.name);
  $("adv-note").textContent = a.horizon_end > a.at
    ? `${hhmm(a.at)} 测算，模拟至 ${hhmm(a.horizon_end)}` : `${hhmm(a.at)} 测算，已过办公时间，仅模拟在等候的号`;
  $("adv-cur").textContent = num(a.hall_p90_current);
  $("adv-new").textContent = num(a.hall_p90_advised);
  const gain = (a.hall_p90_current ?? 0) - (a.hall_p90_advised ?? 0);
  $("adv-gain").textContent = gain > 0.05 ? `缩短 ${num(gain)} 分钟` : "现分配已较合理";
  $("adv-n").textContent = a.changes.length;
  $("adv-open").textContent = `共 ${a.open_windows} 个开放窗口`;
  $("adv-evals").textContent = a.evaluations;
  $("adv-secs").textContent = `用时 ${num(a.seconds)} 秒`;
  const rows = a.bundles.filter((b) => b.waiting || b.expected >= 0.5 || b.current_p90);
  $("adv-bundles").tBodies[0].innerHTML = rows.length ? rows.map((b) => {
    const better = b.advised_p90 !== null && b.current_p90 !== null && b.advised_p90 < b.current_p90 - 0.5;
    const worse = b.advised_p90 !== null && b.current_p90 !== null && b.advised_p90 > b.current_p90 + 0.5;
    return `<tr><td>${esc(short(b.name))}</td><td class="r num">${b.waiting}</td><td class="r num">${num(b.expected)}</td>
      <td class="r num ${level(b.current_p90)}">${num(b.current_p50)} / <b>${num(b.current_p90)}</b></td>
      <td class="r num ${better ? "a-better" : worse ? "a-worse" : ""}">${num(b.advised_p50)} / <b>${num(b.advised_p90)}</b></td></tr>`;
  }).join("") : `<tr><td colspan="5" class="empty">今日剩余时段没有需要模拟的等候或到号</td></tr>`;
  $("adv-changes").innerHTML = a.changes.length ? a.changes.map((c) => `
    <li data-number="${c.number}"><div class="a-win"><b>${c.number}号窗口</b><small>${esc(c.name)}</small></div>
      <div class="a-from">${chips(c.current)}</div><span class="a-arrow" aria-hidden="true">→</span>
      <div class="a-to">${chips(c.advised)}</div>
      <button class="btn btn-sm" type="button" data-window="${c.number}">按建议调整</button></li>`).join("")
    : `<li class="empty">现有分配已是模拟中等候最短的方案，无需调整</li>`;
  renderPrevious(a.previous);
}

function verdict(predicted, actual) {
  if (predicted === null || predicted === undefined || actual === null || actual === undefined) return "";
  const ok = Math.abs(predicted - actual) <= Math.max(5, 0.25 * actual);
  return `<span class="tag ${ok ? "tag-green" : "tag-amber"}">${ok ? "基本准确" : `偏差 ${num(actual - predicted)}`}</span>`;
}

function renderPrevious(p) {
  if (!p) {
    $("adv-prev-note").textContent = "";
    $("adv-prev").innerHTML = `<div class="empty">此前没有保存的建议；今天的建议明天将在这里与实际等候对照</div>`;
    return;
  }
  const [, m, d] = p.date.split("-");
  const applied = p.allocation_changes_after > 0;
  $("adv-prev-note").textContent = `${Number(m)}月${Number(d)}日 ${hhmm(p.at)} 的建议`;
  const key = applied ? "predicted_advised_p90" : "predicted_current_p90";
  const rows = p.bundles.filter((b) => b.called || b[key] !== null);
  $("adv-prev").innerHTML = `
    <p class="a-how">${applied ? `建议后当日调整了 ${p.allocation_changes_after} 次窗口分配，以“按建议”预测对照` : "建议后当日未调整窗口分配，以“按现分配”预测对照"}；
      实际等候为建议之后叫号的号票（叫号时间 − 取号时间）。全厅 p90：预测 <b class="num">${num(applied ? p.hall_p90_advised : p.hall_p90_current)}</b> 分钟，实际 <b class="num">${num(p.hall_p90_actual)}</b> 分钟。</p>
    <div class="table-wrap"><table class="table a-table">
      <thead><tr><th>一件事</th><th class="r">预测 p90（现分配）</th><th class="r">预测 p90（按建议）</th><th class="r">实际 p50 / p90</th><th class="r">叫号</th><th>对照</th></tr></thead>
      <tbody>${rows.length ? rows.map((b) => `<tr><td>${esc(short(b.name))}</td>
        <td class="r num">${num(b.predicted_current_p90)}</td><td class="r num">${num(b.predicted_advised_p90)}</td>
        <td class="r num">${num(b.actual_p50)} / <b>${num(b.actual_p90)}</b></td><td class="r num">${b.called}</td>
        <td>${verdict(b[key], b.actual_p90)}</td></tr>`).join("") : `<tr><td colspan="6" class="empty">该日建议之后没有叫号</td></tr>`}</tbody>
    </table></div>`;
}

async function load() {
  if (state.loading) return;
  state.loading = true;
  const btn = $("adv-run");
  btn.disabled = true;
  btn.textContent = "正在模拟…";
  $("view-advice").dataset.state = "loading";
  try {
    state.advice = await api.get(`/halls/${encodeURIComponent(HALL)}/advice`);
    render(state.advice);
    $("view-advice").dataset.state = "ready";
  } catch (e) {
    $("view-advice").dataset.state = "error";
    toast(e.status === 403 ? "没有权限查看调配建议" : e.message || "测算失败", "error");
  } finally {
    state.loading = false;
    btn.disabled = false;
    btn.textContent = "重新测算";
  }
}

async function apply(number, btn) {
  const change = state.advice?.changes.find((c) => c.number === number);
  if (!change) return;
  btn.disabled = true;
  try {
    await api.put(`/halls/${encodeURIComponent(HALL)}/windows/${number}/bundles`,
      { bundles: change.advised.map((b) => ({ code: b.code, rank: b.rank })) });
    btn.textContent = "已调整";
    btn.closest("li").classList.add("done");
    toast(`${number}号窗口已按建议调整，对新叫号立即生效`, "ok");
  } catch (e) {
    btn.disabled = false;
    toast(e.message || "调整失败", "error");
  }
}

document.addEventListener("manage:view", (ev) => {
  if (ev.detail !== "advice") return;
  if (!$("adv-run")) skeleton();
  if (!state.advice) load();
});
if (document.body.dataset.view === "advice") { skeleton(); load(); }
