// Times, waits and passwords as the manager console shows them; no state, no DOM.

export const AMBER_MIN = 30;
const RED_MIN = 60;

function timeParts(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const opts = { hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit" };
  // local time, as the header clock (the console runs on a PC in the hall)
  const parts = new Intl.DateTimeFormat("zh-CN", opts).formatToParts(d);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}
export function fmtTime(iso) {
  const p = timeParts(iso);
  return p ? `${p.hour}:${p.minute}:${p.second}` : "—";
}
export function fmtDateTime(iso) {
  const p = timeParts(iso);
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}` : "—";
}
export function ago(iso) {
  if (!iso) return "从未上线";
  const min = Math.floor((Date.now() - Date.parse(iso)) / 60000);
  if (Number.isNaN(min)) return "—";
  if (min < 1) return "刚刚";
  if (min < 60) return `${min} 分钟前`;
  if (min < 1440) return `${Math.floor(min / 60)} 小时前`;
  return fmtDateTime(iso).slice(0, 16);
}
export const level = (min) => (min > RED_MIN ? 2 : min > AMBER_MIN ? 1 : 0);
export function waitText(b) {
  if (b.wait_min === null || b.wait_min === undefined) return b.waiting ? "无开放窗口" : "—";
  if (!b.waiting && b.wait_min <= 0) return "—";
  if (b.wait_min >= 90) return `约 ${Math.round(b.wait_min / 30) / 2} 小时`;
  return `约 ${Math.max(1, Math.round(b.wait_min))} 分钟`;
}

export function randomPassword() {
  const chars = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}
