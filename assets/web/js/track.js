// The citizen's phone (/t/<track_token>, from the QR on the ticket): the number, its status in words,
// people ahead and an honest wait range, live: a call to this number shows a banner (and vibrates).
import { api } from "./api.js";
import { connectScreen, esc } from "./live.js";
import { priorityBadge, waitRange } from "./waits.js";

const REFRESH_MS = 3000; // at most one status read per 3 s (the server allows 120 a minute per ticket)
const RETRY_MS = 5000;

const $ = (id) => document.getElementById(id);

function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function statusWords(t) {
  const win = t.window ? `${t.window.number}号窗口` : "窗口";
  switch (t.status) {
    case "waiting": return "等候中";
    case "called": return `请到${win}办理`;
    case "serving": return `办理中 · ${win}`;
    case "done": return "已办结";
    case "no_show": return "已过号";
    case "expired": return "已失效";
    default: return t.status;
  }
}

function detailCard(t) {
  if (t.status === "waiting") {
    const eta = t.people_ahead === 0 ? { text: "即将轮到您" } : waitRange(t.wait_min, t.people_ahead, t.wait_range);
    return `<section class="card position" aria-label="排队位置">
      <div><b class="num" id="ahead">${esc(t.people_ahead ?? "—")}</b><span>前面还有（人）</span></div>
      <div><b class="sm" id="eta">${esc(eta.text)}</b><span>预计等候</span></div>
    </section>`;
  }
  const lines = {
    called: `工作人员正在${esc(t.window ? `${t.window.number}号窗口` : "窗口")}等您，请尽快前往。`
      + (t.recall_count ? `（已再次呼叫${esc(t.recall_count)}次）` : ""),
    serving: "您的事项正在办理中，请配合窗口工作人员。",
    done: "事项已办结，感谢您的耐心！欢迎在窗口评价器上对本次服务作出评价（好差评）。",
    no_show: "叫号时未到窗口，号码已过号。请到服务台咨询是否可以重新排队。",
    expired: "号码仅当日有效，已失效。如需办理请重新取号。",
  };
  return `<section class="card"><p class="fine" style="font-size:15px;color:#334155;margin:0">${lines[t.status] || ""}</p></section>`;
}

function ticketCard(t) {
  return `<section class="card ticket-card">
      <div class="label">您的号码</div>
      <div class="ticket-number num" id="number">${esc(t.number)}</div>
      <div class="bundle-name">${esc(t.bundle_name || t.bundle)}</div>
      ${priorityBadge(t.priority)}
      <div><span class="status-pill ${esc(t.status)}" id="status">${esc(statusWords(t))}</span></div>
      <div class="meta-row" style="justify-content:center;gap:14px">
        <span>取号时间 ${esc(hhmm(t.taken_at))}</span><span class="live-dot">实时更新</span></div>
    </section>${detailCard(t)}`;
}

function unknownCard() {
  return `<section class="card unknown">
      <div class="icon" aria-hidden="true">?</div>
      <h2>没有找到这张号票</h2>
      <p>链接可能不完整，或号票已过期（号码仅当日有效）。<br>请重新扫描号票上的二维码，或到大厅服务台咨询。</p>
    </section>`;
}

export function startTrack({ token }) {
  const client = api();
  let ticket = null;
  let hall = null;
  let lastFetch = 0;
  let timer = null;

  const banner = (t, window, recall) => {
    const el = $("banner");
    el.innerHTML = `${recall ? `<span class="again">再次呼叫</span>` : ""}
      <div class="hint">${esc(t.number)} 号，轮到您了</div>
      <div class="go">请到 <b class="num">${esc(window.number)}号窗口</b> 办理</div>`;
    el.classList.remove("on");
    void el.offsetWidth; // replay the entrance for a recall
    el.classList.add("on");
    document.title = `【到您了】请到${window.number}号窗口办理`;
  };

  const show = (t) => {
    ticket = t;
    $("ticket").innerHTML = ticketCard(t);
    if (t.status === "called" && t.window) {
      if (!$("banner").classList.contains("on")) banner(t, t.window, t.recall_count > 0);
    } else {
      $("banner").classList.remove("on");
      document.title = "我的排队进度";
    }
    document.body.dataset.status = t.status;
  };

  const load = async () => {
    lastFetch = Date.now();
    try {
      const data = await client.get(`/track/${encodeURIComponent(token)}`);
      $("hall-name").textContent = data.hall_name;
      $("waits-link").href = `/w/${encodeURIComponent(data.hall)}`;
      $("waits-link").hidden = false;
      show(data.ticket);
      return data.hall;
    } catch (e) {
      if (e.status === 404) {
        $("ticket").innerHTML = unknownCard();
        $("tips").hidden = true;
        document.body.dataset.status = "unknown";
        return null;
      }
      if (!ticket) $("ticket").innerHTML = `<div class="card loading">${esc(e.message || "暂时无法查询")}，正在重试…</div>`;
      throw e;
    }
  };

  const refresh = () => {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try { await load(); } catch (e) { /* the next event or the periodic read tries again */ }
    }, Math.max(0, lastFetch + REFRESH_MS - Date.now()));
  };

  const follow = (code) => {
    hall = code;
    connectScreen({
      hall, screen: "hall",
      handlers: {
        snapshot: refresh, // after a reconnect: catch up on what was missed
        queue_updated: refresh,
        ticket_called: (data) => {
          if (!ticket || data.ticket.number !== ticket.number) return;
          ticket = { ...ticket, status: "called", window: data.window };
          show(ticket);
          banner(ticket, data.window, data.recall);
          if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
          refresh();
        },
      },
    });
    setInterval(refresh, 60000);
  };

  const first = async () => {
    try {
      const code = await load();
      if (code) follow(code);
      document.body.dataset.ready = "1";
    } catch (e) {
      setTimeout(first, RETRY_MS);
    }
  };
  first();
}
