// The 帮办代办 staff console (/assist/): open requests arrive live over Socket.IO (screen "assist"),
// staff claim one, record progress notes the citizen sees on their phone, and close it (done or
// cancelled). The console keeps every request of today in one map, updated by `assist_updated`.
import { api as makeApi } from "./api.js";
import { clock, connectScreen, esc } from "./live.js";

const $ = (id) => document.getElementById(id);
const staff = JSON.parse($("staff-data").textContent);
const api = makeApi(staff.token);
const isManager = staff.role === "manager" || staff.role === "admin";
const LONG_WAIT_MIN = 10; // an open request waiting longer than this is shown in red

const state = { requests: new Map(), selected: null, busy: false, known: false };

// ------------------------------------------------------------------ helpers
function toast(message, kind = "info") {
  const box = $("toasts");
  const el = document.createElement("div");
  el.className = `toast ${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = message;
  box.append(el);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => { el.classList.add("leaving"); setTimeout(() => el.remove(), 250); },
    kind === "error" ? 6000 : 3000);
}

const pad = (n) => String(n).padStart(2, "0");
function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function minutesSince(iso) {
  return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
}
const STATUS = { open: "待受理", claimed: "已受理", in_progress: "办理中", done: "已办结", cancelled: "已取消" };
const mine = (r) => r.helper && r.helper.id === staff.id;
const byCreated = (a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id;

function tags(r) {
  const out = [`<span class="tag tag-${esc(r.kind)}">${esc(r.kind_name)}</span>`];
  if (r.reason !== "other") out.push(`<span class="tag tag-priority">${esc(r.reason_name)}</span>`);
  if (r.bundle) out.push(`<span class="tag">${esc(r.bundle.name)}</span>`);
  if (r.source === "kiosk") out.push('<span class="tag tag-blue">自助终端</span>');
  return out.join("");
}

function item(r, { compact = false } = {}) {
  const waited = minutesSince(r.created_at);
  let since;
  if (r.status === "open") {
    since = `<b class="${waited >= LONG_WAIT_MIN ? "long" : ""}">${waited}分钟</b>已等候`;
  } else if (r.status === "claimed" || r.status === "in_progress") {
    since = `<b>${esc(r.helper ? r.helper.name : "")}</b>${esc(STATUS[r.status])}`;
  } else {
    since = `<b>${esc(STATUS[r.status])}</b>${esc(hhmm(r.done_at || r.cancelled_at))}`;
  }
  const who = [r.masked_name, r.phone_masked].filter(Boolean).map(esc).join(" · ");
  return `<li class="a-item" data-id="${r.id}" tabindex="0" role="option"
      aria-selected="${state.selected === r.id}">
    <div><div class="where">${esc(r.location)}</div>
      ${compact ? "" : `<div class="what">${who || "未留姓名"} · ${esc(hhmm(r.created_at))}提交</div>`}
      <div class="tags">${tags(r)}</div></div>
    <div class="since">${since}</div>
    ${!compact && r.status === "open"
    ? `<button class="btn btn-primary btn-sm claim" type="button" data-claim="${r.id}">受理</button>` : ""}
  </li>`;
}

// ------------------------------------------------------------------ rendering
function renderLists() {
  const all = [...state.requests.values()].sort(byCreated);
  const open = all.filter((r) => r.status === "open");
  const busy = all.filter((r) => r.status === "claimed" || r.status === "in_progress")
    .sort((a, b) => Number(mine(b)) - Number(mine(a)) || byCreated(a, b));
  const closed = all.filter((r) => r.status === "done" || r.status === "cancelled").reverse();
  $("open-count").textContent = open.length;
  $("busy-count").textContent = busy.length;
  $("closed-count").textContent = closed.length;
  $("open-list").innerHTML = open.length ? open.map((r) => item(r)).join("")
    : '<li class="empty"><span class="big" aria-hidden="true">✓</span>暂无待受理的请求</li>';
  $("busy-list").innerHTML = busy.length ? busy.map((r) => item(r, { compact: true })).join("")
    : '<li class="empty">暂无</li>';
  $("closed-list").innerHTML = closed.length ? closed.map((r) => item(r, { compact: true })).join("")
    : '<li class="empty">暂无</li>';
  renderStats(all);
}

function renderStats(all) {
  const today = new Date().toDateString();
  const filed = all.filter((r) => new Date(r.created_at).toDateString() === today);
  const waits = filed.map((r) => r.wait_min).filter((v) => v !== null && v !== undefined);
  const handles = filed.map((r) => r.handle_min).filter((v) => v !== null && v !== undefined);
  const avg = (xs) => (xs.length ? `${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)}<small>分钟</small>` : "—");
  $("stats").innerHTML = `
    <div><dt>今日求助</dt><dd>${filed.length}<small>件</small></dd></div>
    <div><dt>已办结</dt><dd>${filed.filter((r) => r.status === "done").length}<small>件</small></dd></div>
    <div><dt>平均响应</dt><dd>${avg(waits)}</dd></div>
    <div><dt>平均办理</dt><dd>${avg(handles)}</dd></div>`;
}

function renderDetail() {
  const r = state.requests.get(state.selected);
  const pill = $("d-status");
  if (!r) {
    pill.hidden = true;
    $("detail-body").innerHTML = '<div class="empty"><span class="big" aria-hidden="true">☝</span>'
      + "在左侧选择一个请求查看详情；新的求助会实时出现</div>";
    return;
  }
  pill.hidden = false;
  pill.dataset.status = r.status;
  pill.textContent = STATUS[r.status];
  const canAct = mine(r) || isManager;
  const handling = r.status === "claimed" || r.status === "in_progress";
  const actions = [];
  if (r.status === "open") actions.push('<button class="btn btn-primary btn-lg" data-act="claim">受理并前往</button>');
  if (handling && canAct) {
    actions.push('<button class="btn btn-primary btn-lg" data-act="done">办结</button>');
    actions.push('<button class="btn" data-act="release">退回待受理</button>');
  }
  if (r.status === "open" || (handling && canAct)) actions.push('<button class="btn btn-danger" data-act="cancel">取消请求</button>');
  const phone = r.phone ? `<a class="phone" href="tel:${esc(r.phone)}">${esc(r.phone)}</a>` : esc(r.phone_masked || "未留");
  $("detail-body").innerHTML = `
    <h3>${esc(r.location)}</h3>
    <div class="sub">${tags(r)} · ${esc(hhmm(r.created_at))}提交${r.source === "kiosk" ? "（自助终端代提交）" : ""}</div>
    <dl class="a-facts">
      <dt>群众</dt><dd>${esc(r.masked_name || "未留姓名")}</dd>
      <dt>联系电话</dt><dd>${phone}</dd>
      <dt>事项</dt><dd>${esc(r.bundle ? r.bundle.name : "未确定（综合咨询）")}</dd>
      <dt>类型</dt><dd>${esc(r.kind_name)}${r.kind === "help" ? "：工作人员到群众所在位置协助" : "：工作人员代为办理全程"}</dd>
      <dt>特殊群体</dt><dd>${esc(r.reason_name)}</dd>
      ${r.note ? `<dt>群众留言</dt><dd class="note">${esc(r.note)}</dd>` : ""}
      ${r.helper ? `<dt>办理人</dt><dd>${esc(r.helper.name)}${mine(r) ? "（我）" : ""}</dd>` : ""}
    </dl>
    <div class="a-actions" id="d-actions">${actions.join("")}</div>
    ${handling && canAct ? `<form class="a-progress" id="progress-form">
      <label for="progress-note"><b>记录办理进展</b>（群众可在手机上看到）</label>
      <textarea class="input" id="progress-note" maxlength="500" placeholder="例如：已到3号终端，正在协助填写申请表"></textarea>
      <div class="row"><button class="btn btn-primary" type="submit" id="progress-save">记录进展</button></div>
    </form>` : ""}
    ${handling && !canAct ? '<p class="a-hint">该请求由其他工作人员办理中</p>' : ""}
    <h4 style="margin:0 0 10px;color:var(--c-navy)">办理过程</h4>
    <ol class="a-steps">${r.steps.map((s) => `<li><span class="t num">${esc(hhmm(s.at))}</span><b>${esc(s.action_name)}</b>
      <span class="who">${s.staff ? esc(s.staff.name) : ""}</span>${s.note ? `<span class="n">${esc(s.note)}</span>` : ""}</li>`).join("")}</ol>`;
}

function render() {
  renderLists();
  renderDetail();
}

// ------------------------------------------------------------------ actions
async function act(id, action, body = {}) {
  if (state.busy) return;
  state.busy = true;
  try {
    const r = await api.post(`/assist-requests/${id}/${action}`, body);
    upsert(r);
    state.selected = r.id;
    render();
    const words = { claim: "已受理，请尽快前往", progress: "进展已记录", release: "已退回待受理", close: body.outcome === "done" ? "已办结" : "已取消" };
    toast(words[action] || "已完成", "ok");
  } catch (e) {
    toast(e.message || "操作失败", "error");
    if (e.status === 401) setTimeout(() => { window.location.href = "/login?next=/assist/"; }, 2000);
  } finally {
    state.busy = false;
  }
}

function upsert(r) {
  state.requests.set(r.id, r);
}

document.addEventListener("click", (ev) => {
  const claimBtn = ev.target.closest("[data-claim]");
  if (claimBtn) {
    ev.stopPropagation();
    act(Number(claimBtn.dataset.claim), "claim");
    return;
  }
  const li = ev.target.closest(".a-item");
  if (li) {
    state.selected = Number(li.dataset.id);
    render();
    return;
  }
  const btn = ev.target.closest("#d-actions [data-act]");
  if (!btn || state.selected === null) return;
  const which = btn.dataset.act;
  if (which === "claim") act(state.selected, "claim");
  if (which === "release") act(state.selected, "release");
  if (which === "done") act(state.selected, "close", { outcome: "done", note: $("progress-note")?.value.trim() || null });
  if (which === "cancel") {
    const reason = window.prompt("取消原因（例如：群众已自行办理、联系不上）", "");
    if (reason !== null) act(state.selected, "close", { outcome: "cancelled", note: reason.trim() || null });
  }
});

document.addEventListener("keydown", (ev) => {
  const li = ev.target.closest?.(".a-item");
  if (li && (ev.key === "Enter" || ev.key === " ")) {
    ev.preventDefault();
    li.click();
  }
});

document.addEventListener("submit", (ev) => {
  if (ev.target.id !== "progress-form") return;
  ev.preventDefault();
  const note = $("progress-note").value.trim();
  if (!note) {
    toast("请先填写进展内容", "error");
    return;
  }
  act(state.selected, "progress", { note });
});

// ------------------------------------------------------------------ live
function setConn(online) {
  $("conn").dataset.state = online ? "online" : "offline";
  $("conn-text").textContent = online ? "实时连接正常" : "连接中断，正在重连…";
}

function start() {
  clock($("clock"));
  if (!staff.hall) {
    $("open-list").innerHTML = '<li class="empty">该账号未归属大厅</li>';
    return;
  }
  const socket = connectScreen({
    hall: staff.hall, screen: "assist", token: staff.token,
    handlers: {
      snapshot(data) {
        $("hall-name").textContent = data.hall.name;
        state.requests.clear();
        for (const r of [...data.today, ...data.requests]) upsert(r);
        state.known = true;
        setConn(true);
        render();
      },
      error(err) {
        toast(err.message || "无法订阅帮办代办请求", "error");
      },
    },
    onStale: (stale) => setConn(!stale),
  });
  socket.on("assist_updated", (data) => {
    const r = data.request;
    const isNew = !state.requests.has(r.id);
    upsert(r);
    // keep an unsaved progress note: only the lists re-render unless the selected request changed
    renderLists();
    if (r.id === state.selected && !document.activeElement?.matches("#progress-note")) renderDetail();
    if (isNew && r.status === "open" && state.known) {
      toast(`新的${r.kind_name}请求：${r.location}`);
      document.querySelector(`.a-item[data-id="${r.id}"]`)?.classList.add("fresh");
    }
  });
  socket.on("disconnect", () => setConn(false));
  setInterval(renderLists, 30000); // the waiting minutes tick on
}

start();
