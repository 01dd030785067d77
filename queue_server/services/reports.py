"""The report of a hall for a day, a week or a month: JSON, Excel (xlsx, a sheet per table) or CSV.

A period is a run of service days: `daily` the day asked, `weekly` Monday–Sunday around it, `monthly`
its calendar month. Every figure is computed from the period's tickets and evaluations:
- issued: tickets taken that service day, counted under the bundle they were taken for (the letter of
  the number, which a transfer keeps); every other bundle figure counts under the bundle the ticket
  ended in (the one it was served for).
- served: tickets done; no_show: tickets left as 过号 (a no-show requeued and then served is served).
- wait: called_at − taken_at of every ticket that was called, in minutes; p50 and p90 by `percentile`.
- service_avg: mean of finished_at − started_at (called_at when never started) of served tickets.
- no_show_rate: no_show / issued.
- windows: tickets called to and served at each window; busy_share = their summed service time /
  the hall's opening hours (opens–closes) times the days it was open (1 for a day; the hall's working
  days for a week or month: settings.working_days); it can pass 1 when service runs past closing.
- ratings: evaluations given in the period (hall-local days); good_share = levels 4–5 / count (None
  when none).
- hours, appointments, ratings_by (window, bundle, clerk), one_thing (self-service share and the
  一件事 figures): see report_tables.py; assist: the 帮办代办 figures of services/assist.py.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ..db import Database
from ..models import Allocation, Bundle, Hall, Ticket, Window
from ..models.service import Evaluation
from ..queue.calling import Status
from . import report_tables
from .common import hall_by_code
from .evaluations import BAD_LEVELS, GOOD_LEVELS, day_bounds
from .settings import working_days

PERIODS = {"daily": "日报", "weekly": "周报", "monthly": "月报"}


def period_days(period: str, day: date) -> tuple[date, date]:
    """The first and last service day of the period of kind `period` that holds `day`."""
    if period == "daily":
        return day, day
    if period == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "monthly":
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return start, following - timedelta(days=1)
    raise ValueError(f"unknown period {period!r}")


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0 ≤ p ≤ 1) by linear interpolation between closest ranks.

    Sort the n values x[0] ≤ … ≤ x[n−1]; take h = (n − 1)·p; answer x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
    This is numpy's default ('linear') and `statistics.quantiles(method="inclusive")`; None for no values.
    """
    if not values:
        return None
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def service_time(t: Ticket) -> timedelta | None:
    """How long a served ticket was at the counter: from start (or the call) to finish."""
    begin = t.started_at or t.called_at
    if t.status != Status.DONE.value or t.finished_at is None or begin is None:
        return None
    return max(t.finished_at - begin, timedelta(0))


def _bundle_rows(db: Any, hall: Hall, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    allocated = set(db.scalars(select(Allocation.bundle_id).join(Window, Window.id == Allocation.window_id)
                               .where(Window.hall_id == hall.id)))
    bundles = {b.id: b for b in db.scalars(select(Bundle))}
    by_prefix = {b.prefix: b.id for b in bundles.values()}
    issued = Counter(by_prefix.get(t.number[:1], t.bundle_id) for t in tickets)
    ended: dict[int, list[Ticket]] = defaultdict(list)
    for t in tickets:
        ended[t.bundle_id].append(t)
    shown = sorted(allocated | set(issued) | set(ended), key=lambda i: bundles[i].prefix)
    rows = []
    for bundle_id in shown:
        mine = ended.get(bundle_id, [])
        waits = [minutes(t.called_at - t.taken_at) for t in mine if t.called_at is not None]
        services = [s for s in (service_time(t) for t in mine) if s is not None]
        b = bundles[bundle_id]
        rows.append({
            "code": b.code, "name": b.name, "prefix": b.prefix, "issued": issued.get(bundle_id, 0),
            "served": sum(t.status == Status.DONE.value for t in mine),
            "no_show": sum(t.status == Status.NO_SHOW.value for t in mine),
            "no_show_rate": (round(sum(t.status == Status.NO_SHOW.value for t in mine)
                                   / issued[bundle_id], 3) if issued.get(bundle_id) else None),
            "wait_p50_min": _r(percentile(waits, 0.5)), "wait_p90_min": _r(percentile(waits, 0.9)),
            "service_avg_min": _r(sum(minutes(s) for s in services) / len(services)) if services else None,
        })
    return rows


def opening_minutes(hall: Hall) -> float:
    """The hall's opening hours in minutes (the same every day: the hall keeps one opens–closes)."""
    opens = hall.opens.hour * 60 + hall.opens.minute
    closes = hall.closes.hour * 60 + hall.closes.minute
    return float(max(closes - opens, 0))


def _window_rows(db: Any, hall: Hall, tickets: Iterable[Ticket], open_days: int) -> list[dict[str, Any]]:
    served: Counter[int] = Counter()
    called: Counter[int] = Counter()
    busy: dict[int, float] = defaultdict(float)
    for t in tickets:
        if t.called_at is not None and t.window_id is not None:
            called[t.window_id] += 1
        s = service_time(t)
        if s is not None and t.window_id is not None:
            served[t.window_id] += 1
            busy[t.window_id] += minutes(s)
    open_min = opening_minutes(hall) * open_days
    windows = db.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number))
    return [{"number": w.number, "name": w.name, "called": called.get(w.id, 0), "served": served.get(w.id, 0),
             "busy_min": _r(busy.get(w.id, 0.0)),
             "busy_share": round(busy.get(w.id, 0.0) / open_min, 3) if open_min else None}
            for w in windows]


def _ratings(db: Any, hall: Hall, start: datetime, end: datetime) -> dict[str, Any]:
    levels = list(db.scalars(select(Evaluation.level).where(
        Evaluation.hall_id == hall.id, Evaluation.rated_at >= start, Evaluation.rated_at < end)))
    count = len(levels)
    return {"count": count,
            "good_share": round(sum(lv in GOOD_LEVELS for lv in levels) / count, 3) if count else None,
            "bad": sum(lv in BAD_LEVELS for lv in levels),
            "average": round(sum(levels) / count, 2) if count else None,
            "by_level": {str(lv): levels.count(lv) for lv in range(5, 0, -1)}}


def daily_report(database: Database, hall_code: str, day: date,
                 now: datetime | None = None) -> dict[str, Any]:
    """The hall's figures for one service day (the module docstring defines each)."""
    return period_report(database, hall_code, "daily", day, now)


def period_report(database: Database, hall_code: str, period: str, day: date,
                  now: datetime | None = None) -> dict[str, Any]:
    """The hall's figures for the day, week or month holding `day`; `now` settles missed bookings."""
    first, last = period_days(period, day)
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        start, end = day_bounds(hall, first)[0], day_bounds(hall, last)[1]
        tickets = list(db.scalars(select(Ticket).where(
            Ticket.hall_id == hall.id, Ticket.service_day >= first, Ticket.service_day <= last)))
        open_days = 1 if period == "daily" else len(working_days(db, hall, first, last))
        report = {
            "hall": hall.code, "hall_name": hall.name, "period": period, "title": PERIODS[period],
            "date": first.isoformat(), "start": first.isoformat(), "end": last.isoformat(),
            "open_days": open_days, "opening_hours": f"{hall.opens:%H:%M}–{hall.closes:%H:%M}",
            "bundles": _bundle_rows(db, hall, tickets),
            "windows": _window_rows(db, hall, tickets, open_days),
            "ratings": _ratings(db, hall, start, end),
            "hours": report_tables.hours(hall, tickets),
            "appointments": report_tables.appointments(db, hall, start, end, now),
            "ratings_by": report_tables.ratings_by(db, hall, start, end),
            "one_thing": report_tables.one_thing(db, hall, tickets, start, end),
        }
    report["assist"] = _assist(database, hall_code, first, last)
    return report


def _assist(database: Database, hall_code: str, first: date, last: date) -> dict[str, Any]:
    """帮办代办: the day's figures (services/assist.py) for a day; for a week or month, each day's and
    the summed counts (percentiles of days cannot be added up)."""
    from . import assist  # here: assist imports this module's percentile

    days = []
    day = first
    while day <= last:
        days.append(assist.assist_report(database, hall_code, day))
        day += timedelta(days=1)
    if len(days) == 1:
        return {"kinds": days[0]["kinds"], "total": days[0]["total"], "days": []}
    counts = ("requests", "done", "cancelled", "unclaimed")
    kinds = [{"kind": k["kind"], "kind_name": k["kind_name"],
              **{c: sum(d["kinds"][i][c] for d in days) for c in counts}}
             for i, k in enumerate(days[0]["kinds"])]
    total = {"kind": "all", "kind_name": "合计", **{c: sum(d["total"][c] for d in days) for c in counts}}
    return {"kinds": kinds, "total": total,
            "days": [{"date": d["date"], **{c: d["total"][c] for c in counts},
                      "wait_avg_min": d["total"]["wait_avg_min"],
                      "handle_avg_min": d["total"]["handle_avg_min"]} for d in days]}


# --- exports ----------------------------------------------------------------------------------

# (key, Chinese header, Excel number format)
BUNDLE_COLUMNS = (("code", "事项编码", "@"), ("name", "一件事名称", "@"), ("issued", "取号数", "0"),
                  ("served", "办结数", "0"), ("no_show", "过号数", "0"),
                  ("wait_p50_min", "等候时间中位数（分钟）", "0.0"),
                  ("wait_p90_min", "等候时间90分位（分钟）", "0.0"),
                  ("service_avg_min", "平均办理时长（分钟）", "0.0"), ("no_show_rate", "过号率", "0.0%"))
WINDOW_COLUMNS = (("number", "窗口号", "0"), ("name", "窗口名称", "@"), ("served", "办结数", "0"),
                  ("busy_min", "办理用时（分钟）", "0.0"), ("busy_share", "忙碌占比", "0.0%"),
                  ("called", "叫号数", "0"))
RATING_COLUMNS = (("count", "评价数", "0"), ("good_share", "好评率（满意及以上）", "0.0%"),
                  ("bad", "差评数", "0"), ("average", "平均等级", "0.00"))
HOUR_COLUMNS = (("label", "时段", "@"), ("issued", "取号数", "0"), ("called", "叫号数", "0"),
                ("served", "办结数", "0"))
_RATED = (("count", "评价数", "0"), ("good", "好评数", "0"), ("bad", "差评数", "0"),
          ("good_share", "好评率", "0.0%"))
RATED_WINDOW_COLUMNS = (("number", "窗口号", "0"), ("name", "窗口名称", "@"), *_RATED)
RATED_BUNDLE_COLUMNS = (("code", "事项编码", "@"), ("name", "一件事名称", "@"), *_RATED)
RATED_CLERK_COLUMNS = (("name", "经办人", "@"), ("username", "用户名", "@"), *_RATED)
APPOINTMENT_COLUMNS = (("booked", "预约数", "0"), ("kept", "已签到", "0"), ("late", "迟到签到", "0"),
                       ("missed", "爽约", "0"), ("cancelled", "已取消", "0"), ("pending", "待签到", "0"),
                       ("kept_share", "履约率", "0.0%"))
ONE_THING_COLUMNS = (("code", "事项编码", "@"), ("name", "一件事名称", "@"), ("served", "窗口办结", "0"),
                     ("kiosk", "自助申请", "0"), ("staff_applications", "窗口受理申请", "0"),
                     ("self_service_share", "自助办理占比", "0.0%"), ("cases", "办件数", "0"),
                     ("visits_before", "改革前跑动次数", "0"), ("visits_after", "现跑动次数", "0"),
                     ("visits_saved", "减少跑动（人次）", "0"), ("materials_before", "改革前材料数", "0"),
                     ("materials_now", "现提交材料数", "0"), ("materials_saved", "减少材料（份）", "0"),
                     ("identity_share", "表单自动填充率", "0.0%"))
ASSIST_COLUMNS = (("kind_name", "类别", "@"), ("requests", "请求数", "0"), ("done", "已办结", "0"),
                  ("cancelled", "已取消", "0"), ("unclaimed", "未受理", "0"),
                  ("wait_avg_min", "平均等待（分钟）", "0.0"), ("wait_p90_min", "等待90分位（分钟）", "0.0"),
                  ("handle_avg_min", "平均办理（分钟）", "0.0"))
SHEETS = ("按事项", "按窗口", "好差评", "按时段", "窗口好评率", "事项好评率", "经办人好评率", "预约",
          "一件事成效", "帮办代办")


def _sections(report: dict[str, Any]) -> list[tuple[str, tuple[tuple[str, str, str], ...],
                                                     list[dict[str, Any]]]]:
    by = report["ratings_by"]
    one = report["one_thing"]
    return [(SHEETS[0], BUNDLE_COLUMNS, report["bundles"]),
            (SHEETS[1], WINDOW_COLUMNS, report["windows"]),
            (SHEETS[2], RATING_COLUMNS, [report["ratings"]]),
            (SHEETS[3], HOUR_COLUMNS, report["hours"]),
            (SHEETS[4], RATED_WINDOW_COLUMNS, by["windows"]),
            (SHEETS[5], RATED_BUNDLE_COLUMNS, by["bundles"]),
            (SHEETS[6], RATED_CLERK_COLUMNS, by["clerks"]),
            (SHEETS[7], APPOINTMENT_COLUMNS, [report["appointments"]]),
            (SHEETS[8], ONE_THING_COLUMNS, [*one["bundles"], {"code": "合计", **one["total"]}]),
            (SHEETS[9], ASSIST_COLUMNS, [*report["assist"]["kinds"], report["assist"]["total"]])]


def span(report: dict[str, Any]) -> str:
    """The day, or first and last day, a report covers."""
    return report["date"] if report["start"] == report["end"] else f"{report['start']} 至 {report['end']}"


def to_xlsx(report: dict[str, Any]) -> bytes:
    """A workbook with a sheet per section, Chinese headers and number formats."""
    # Imported here: the server starts (and JSON/CSV work) even where openpyxl is missing.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, columns, rows in _sections(report):
        sheet = book.create_sheet(title)
        sheet.append([header for _, header, _ in columns])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append([row.get(key) for key, _, _ in columns])
        for i, (_, header, fmt) in enumerate(columns, start=1):
            letter = get_column_letter(i)
            sheet.column_dimensions[letter].width = max(10, 2 * len(header) + 2)
            for cell in sheet[letter][1:]:
                cell.number_format = fmt
        sheet.freeze_panes = "A2"
    book.properties.title = f"{report['hall_name']} {span(report)} {report['title']}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese), the sections one after another."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["大厅", report["hall_name"], report["hall"]])
    writer.writerow(["日期", span(report)])
    for title, columns, rows in _sections(report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow([header for _, header, _ in columns])
        for row in rows:
            writer.writerow(["" if row.get(key) is None else row.get(key) for key, _, _ in columns])
    return out.getvalue().encode("utf-8-sig")


def filename(report: dict[str, Any], ext: str) -> str:
    """govhall-demo-2026-11-23 (a day), …-2026-11-23-week (the week from that Monday), …-2026-11 (a month)."""
    if report["period"] == "weekly":
        return f"govhall-{report['hall']}-{report['start']}-week.{ext}"
    if report["period"] == "monthly":
        return f"govhall-{report['hall']}-{report['start'][:7]}.{ext}"
    return f"govhall-{report['hall']}-{report['date']}.{ext}"
