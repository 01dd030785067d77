// The manager console's 统计报表 (beside manage/main.js, which shows the views and fires "manage:view"):
// the report of a chosen day, week (Monday–Sunday) or month: KPI tiles; ECharts per hour, per bundle
// and per window; the tables (bundles, windows, 好评率 by window / bundle / clerk, the 一件事 figures
// with the self-service share, appointments, 帮办代办); Excel/CSV downloads of the same period
// (fetched with the bearer token, saved through an object URL).
/* global echarts */
import { api as makeApi } from "./api.js";
import { esc } from "./live.js";
import { toaster } from "./toasts.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const HALL = staff.hall;
const toast = toaster();
const TITLE = { daily: "日报表", weekly: "周报表", monthly: "月报表" };
const NONE = { daily: "当日", weekly: "本周", monthly: "本月" };

const state = { period: "daily", report: null, charts: {} };

const pad = (n) => String(n).padStart(2, "0");
const localDay = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const num = (v, digits = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits).replace(/\.0$/, ""));
const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1).replace(/\.0$/, ""));
const pctCell = (v) => (v === null || v === undefined ? "—" : `${pct(v)}%`);
const shortName = (name) => String(name || "").replace(/（.*?）|\(.*?\)/g, "").replace(/一件事$/, "");
const span = (r) => (r.start === r.end ? r.start : `${r.start} 至 ${r.end.slice(5)}`);
const empty = (cols, text) => `<tr><td colspan="${cols}" class="empty">${text}</td></tr>`;

// ------------------------------------------------------------------ tiles and tables
function totals(report) {
  const sum = (key) => report.bundles.reduce((n, b) => n + b[key], 0);
  // hall-wide percentiles are not in the report: weigh each bundle's by its called count
  const weighted = (key) => {
    const rows = report.bundles.filter((b) => b[key] !== null && b.served + b.no_show > 0);
    const w = rows.reduce((n, b) => n + b.served + b.no_show, 0);
    return w ? rows.reduce((n, b) => n + b[key] * (b.served + b.no_show), 0) / w : null;
  };
  return { issued: sum("issued"), served: sum("served"), noShow: sum("no_show"),
    p50: weighted("wait_p50_min"), p90: weighted("wait_p90_min") };
}

function renderTiles(report) {
  const t = totals(report);
  $("k-issued").textContent = t.issued;
  $("k-issued-sub").textContent = report.period === "daily" ? "\u00a0" : `办公 ${report.open_days} 天`;
  $("k-served").textContent = t.served;
  $("k-served-sub").textContent = t.issued ? `办结率 ${pctCell(t.served / t.issued)}` : "\u00a0";
  $("k-noshow").textContent = t.issued ? pct(t.noShow / t.issued) : "—";
  $("k-noshow-sub").textContent = `过号 ${t.noShow} 张`;
  const r = report.ratings;
  $("k-good").textContent = pct(r.good_share);
  $("k-good-sub").textContent = r.count ? `评价 ${r.count} 次 · 差评 ${r.bad} 次` : `${NONE[report.period]}暂无评价`;
  $("k-wait").textContent = t.p50 === null ? "—" : `${num(t.p50)} / ${num(t.p90)}`;
  $("k-wait-sub").textContent = "各一件事按叫号量加权";
  const a = report.appointments;
  $("k-kept").textContent = pct(a.kept_share);
  $("k-kept-sub").textContent = a.booked ? `预约 ${a.booked} · 爽约 ${a.missed} · 迟到 ${a.late}` : "暂无预约";
  const o = report.one_thing.total;
  $("k-self").textContent = pct(o.self_service_share);
  $("k-self-sub").textContent = `自助申请 ${o.kiosk} · 窗口办结 ${o.served}`;
}

function renderTables(report) {
  const bundles = report.bundles.filter((b) => b.issued || b.served || b.no_show);
  $("rep-bundles").tBodies[0].innerHTML = bundles.map((b) => `<tr data-bundle="${esc(b.code)}">
      <td><span class="q-prefix">${esc(b.prefix)}</span>${esc(b.name)}</td><td class="r num">${b.issued}</td>
      <td class="r num">${b.served}</td><td class="r num">${pctCell(b.no_show_rate)}</td>
      <td class="r num">${num(b.wait_p50_min)}</td><td class="r num">${num(b.wait_p90_min)}</td>
      <td class="r num">${num(b.service_avg_min)}</td></tr>`).join("")
    || empty(7, `${NONE[report.period]}没有取号`);
  const windows = report.windows.filter((w) => w.served || w.called);
  $("rep-windows").tBodies[0].innerHTML = windows.map((w) => `<tr data-window="${w.number}">
      <td>${w.number}号 ${esc(w.name)}</td><td class="r num">${w.called}</td><td class="r num">${w.served}</td>
      <td class="r num">${num(w.busy_min)} 分钟</td><td class="r num">${pctCell(w.busy_share)}</td></tr>`).join("")
    || empty(5, `${NONE[report.period]}没有办结`);
  const rated = (rows, label) => rows.map((r) => `<tr><td>${label(r)}</td><td class="r num">${r.count}</td>
      <td class="r num ${r.bad ? "r-bad" : ""}">${r.bad}</td><td class="r num">${pctCell(r.good_share)}</td></tr>`).join("")
    || empty(4, "暂无评价");
  const by = report.ratings_by;
  $("rep-rated-windows").tBodies[0].innerHTML = rated(by.windows, (r) => `${r.number}号 ${esc(r.name)}`);
  $("rep-rated-bundles").tBodies[0].innerHTML = rated(by.bundles, (r) => `<span class="q-prefix">${esc(r.prefix)}</span>${esc(shortName(r.name))}`);
  $("rep-rated-clerks").tBodies[0].innerHTML = rated(by.clerks, (r) => `${esc(r.name)} <span class="dim">${esc(r.username)}</span>`);
  renderOneThing(report.one_thing);
  const a = report.appointments;
  $("rep-appointments").tBodies[0].innerHTML = `<tr><td class="r num">${a.booked}</td><td class="r num">${a.kept}</td>
    <td class="r num">${a.late}</td><td class="r num">${a.missed}</td><td class="r num">${a.cancelled}</td>
    <td class="r num">${a.pending}</td><td class="r num">${pctCell(a.kept_share)}</td></tr>`;
  const kinds = [...(report.assist.kinds || []), report.assist.total].filter(Boolean);
  $("rep-assist").tBodies[0].innerHTML = kinds.map((k) => `<tr class="${k.kind === "all" ? "r-total" : ""}">
      <td>${esc(k.kind_name)}</td><td class="r num">${k.requests}</td><td class="r num">${k.done}</td>
      <td class="r num">${k.unclaimed}</td><td class="r num">${num(k.wait_avg_min)}</td>
      <td class="r num">${num(k.handle_avg_min)}</td></tr>`).join("") || empty(6, "暂无帮办代办");
}

function renderOneThing(one) {
  const change = (before, now) => (before === null || before === undefined ? "—" : `${before} → ${now ?? "—"}`);
  const row = (r, total = false) => `<tr class="${total ? "r-total" : ""}">
      <td>${total ? "合计" : `<span class="q-prefix">${esc(r.prefix)}</span>${esc(shortName(r.name))}`}</td>
      <td class="r num">${r.served}</td><td class="r num">${r.kiosk}</td><td class="r num">${pctCell(r.self_service_share)}</td>
      <td class="r num">${r.cases}</td><td class="r num">${total ? "" : change(r.visits_before, r.visits_after)}</td>
      <td class="r num">${r.visits_saved ?? "—"}</td><td class="r num">${total ? "" : change(r.materials_before, r.materials_now)}</td>
      <td class="r num">${r.materials_saved ?? "—"}</td><td class="r num">${pctCell(r.identity_share)}</td></tr>`;
  $("rep-one-thing").tBodies[0].innerHTML = one.bundles.length
    ? one.bundles.map((r) => row(r)).join("") + row(one.total, true) : empty(10, "暂无办件");
}

// ------------------------------------------------------------------ charts
function chart(id) {
  if (typeof echarts === "undefined") return null;
  if (!state.charts[id]) state.charts[id] = echarts.init($(id), null, { renderer: "canvas" });
  return state.charts[id];
}

const BASE = {
  textStyle: { fontFamily: "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif" },
  grid: { left: 48, right: 56, top: 48, bottom: 64 }, tooltip: { trigger: "axis" },
  legend: { top: 2, left: "center" }, animationDuration: 300,
};

function renderHourChart(report) {
  const c = chart("rep-hour-chart");
  $("rep-hour-note").textContent = report.period === "daily" ? "" : `${report.open_days} 个办公日合计，按钟点汇总`;
  if (!c) return;
  c.setOption({
    ...BASE, color: ["#1558c0", "#e59a19", "#2e7d32"], grid: { ...BASE.grid, bottom: 36 },
    xAxis: { type: "category", data: report.hours.map((h) => h.label) },
    yAxis: { type: "value", name: "张/件", minInterval: 1 },
    series: [{ name: "取号", type: "bar", data: report.hours.map((h) => h.issued), barMaxWidth: 26 },
      { name: "叫号", type: "line", symbolSize: 6, data: report.hours.map((h) => h.called) },
      { name: "办结", type: "line", symbolSize: 6, data: report.hours.map((h) => h.served) }],
  }, true);
}

function renderCharts(report) {
  renderHourChart(report);
  const bundles = report.bundles.filter((b) => b.issued || b.served || b.no_show);
  const bc = chart("rep-bundle-chart");
  if (bc) {
    bc.setOption({
      ...BASE, color: ["#1558c0", "#2e7d32"],
      xAxis: { type: "category", data: bundles.map((b) => shortName(b.name)),
        axisLabel: { interval: 0, rotate: bundles.length > 6 ? 30 : 0, width: 90, overflow: "truncate" } },
      yAxis: { type: "value", name: "张/件", minInterval: 1 },
      series: [{ name: "取号", type: "bar", data: bundles.map((b) => b.issued), barMaxWidth: 28 },
        { name: "办结", type: "bar", data: bundles.map((b) => b.served), barMaxWidth: 28 }],
    }, true);
  }
  const windows = report.windows.filter((w) => w.served);
  const wc = chart("rep-window-chart");
  if (wc) {
    wc.setOption({
      ...BASE, color: ["#2e7d32", "#e59a19"],
      xAxis: { type: "category", data: windows.map((w) => `${w.number}号`) },
      yAxis: [{ type: "value", name: "办结", minInterval: 1 },
        { type: "value", name: "忙碌率", min: 0, max: (v) => Math.max(100, Math.ceil(v.max / 10) * 10),
          axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }],
      series: [{ name: "办结", type: "bar", data: windows.map((w) => w.served), barMaxWidth: 28 },
        { name: "忙碌率", type: "line", yAxisIndex: 1, symbolSize: 7,
          data: windows.map((w) => (w.busy_share === null ? null : Math.round(w.busy_share * 1000) / 10)),
          tooltip: { valueFormatter: (v) => (v === null ? "—" : `${v}%`) } }],
    }, true);
  }
}

// ------------------------------------------------------------------ loading and exports
const reportPath = (format = "json") => {
  const day = $("rep-date").value || localDay();
  return `/halls/${encodeURIComponent(HALL)}/reports/${state.period}?date=${day}${format === "json" ? "" : `&format=${format}`}`;
};

async function loadReport() {
  $("rep-note").textContent = "正在载入…";
  $("rep-title").textContent = TITLE[state.period];
  try {
    const report = await api.get(reportPath());
    state.report = report;
    $("rep-note").textContent = `${report.hall_name} · ${span(report)} · 开放时间 ${report.opening_hours}`;
    renderTiles(report);
    renderTables(report);
    renderCharts(report);
    $("view-reports").dataset.period = report.period;
    $("view-reports").dataset.loaded = report.date;
  } catch (e) {
    $("rep-note").textContent = e.message;
  }
}

async function download(format, btn) {
  btn.disabled = true;
  try {
    const response = await fetch(`/api/v1${reportPath(format)}`, { headers: { Authorization: `Bearer ${staff.token}` } });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new Error(data.error?.message || `导出失败 (${response.status})`);
    }
    const blob = await response.blob();
    const named = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = named ? named[1] : `report-${HALL}-${state.period}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(e.message || "导出失败", "error");
  } finally {
    btn.disabled = false;
  }
}

function setPeriod(period) {
  state.period = TITLE[period] ? period : "daily";
  for (const b of $("rep-period").children) b.setAttribute("aria-pressed", String(b.dataset.period === state.period));
}

function wire() {
  setPeriod("daily");
  $("rep-date").value = localDay();
  $("rep-period").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-period]");
    if (!btn) return;
    setPeriod(btn.dataset.period);
    loadReport();
  });
  $("rep-date").addEventListener("change", loadReport);
  $("rep-refresh").addEventListener("click", loadReport);
  for (const id of ["rep-xlsx", "rep-csv"]) {
    $(id).addEventListener("click", (ev) => download(ev.currentTarget.dataset.format, ev.currentTarget));
  }
  window.addEventListener("resize", () => { for (const c of Object.values(state.charts)) c.resize(); });
}

function onView(view) {
  if (view !== "reports") return;
  // the charts are sized when their section is visible
  requestAnimationFrame(() => {
    for (const c of Object.values(state.charts)) c.resize();
    loadReport();
  });
}

wire();
document.addEventListener("manage:view", (ev) => onView(ev.detail));
if (document.body.dataset.view === "reports") onView("reports");
