"""The daily report of a hall: per bundle, per window and ratings, as JSON, Excel (xlsx) or CSV.

Every figure is computed from that service day's tickets and that day's evaluations:
- issued: tickets taken that service day, counted under the bundle they were taken for (the letter of
  the number, which a transfer keeps); every other bundle figure counts under the bundle the ticket
  ended in (the one it was served for).
- served: tickets done; no_show: tickets left as 过号 (a no-show requeued and then served is served).
- wait: called_at − taken_at of every ticket that was called, in minutes; p50 and p90 by `percentile`.
- service_avg: mean of finished_at − started_at (called_at when never started) of served tickets.
- windows: served tickets per window; busy_share = their summed service time / the hall's opening
  hours (opens–closes) that day; it can pass 1 when service runs past closing.
- ratings: evaluations given that hall-local day; good_share = levels 4–5 / count (None when none).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from ..db import Database
from ..models import Allocation, Bundle, Hall, Ticket, Window
from ..models.service import Evaluation
from ..queue.calling import Status
from .common import hall_by_code
from .evaluations import BAD_LEVELS, GOOD_LEVELS, day_bounds


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
            "wait_p50_min": _r(percentile(waits, 0.5)), "wait_p90_min": _r(percentile(waits, 0.9)),
            "service_avg_min": _r(sum(minutes(s) for s in services) / len(services)) if services else None,
        })
    return rows


def opening_minutes(hall: Hall) -> float:
    """The hall's opening hours in minutes (the same every day: the hall keeps one opens–closes)."""
    opens = hall.opens.hour * 60 + hall.opens.minute
    closes = hall.closes.hour * 60 + hall.closes.minute
    return float(max(closes - opens, 0))


def _window_rows(db: Any, hall: Hall, tickets: Iterable[Ticket]) -> list[dict[str, Any]]:
    served: Counter[int] = Counter()
    busy: dict[int, float] = defaultdict(float)
    for t in tickets:
        s = service_time(t)
        if s is not None and t.window_id is not None:
            served[t.window_id] += 1
            busy[t.window_id] += minutes(s)
    open_min = opening_minutes(hall)
    windows = db.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number))
    return [{"number": w.number, "name": w.name, "served": served.get(w.id, 0),
             "busy_min": _r(busy.get(w.id, 0.0)),
             "busy_share": round(busy.get(w.id, 0.0) / open_min, 3) if open_min else None}
            for w in windows]


def _ratings(db: Any, hall: Hall, day: date) -> dict[str, Any]:
    start, end = day_bounds(hall, day)
    levels = list(db.scalars(select(Evaluation.level).where(
        Evaluation.hall_id == hall.id, Evaluation.rated_at >= start, Evaluation.rated_at < end)))
    count = len(levels)
    return {"count": count,
            "good_share": round(sum(lv in GOOD_LEVELS for lv in levels) / count, 3) if count else None,
            "bad": sum(lv in BAD_LEVELS for lv in levels),
            "average": round(sum(levels) / count, 2) if count else None,
            "by_level": {str(lv): levels.count(lv) for lv in range(5, 0, -1)}}


def daily_report(database: Database, hall_code: str, day: date) -> dict[str, Any]:
    """The hall's figures for one service day (the module docstring defines each)."""
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        tickets = list(db.scalars(select(Ticket).where(Ticket.hall_id == hall.id,
                                                       Ticket.service_day == day)))
        return {
            "hall": hall.code, "hall_name": hall.name, "date": day.isoformat(),
            "opening_hours": f"{hall.opens:%H:%M}–{hall.closes:%H:%M}",
            "bundles": _bundle_rows(db, hall, tickets),
            "windows": _window_rows(db, hall, tickets),
            "ratings": _ratings(db, hall, day),
        }


# --- exports ----------------------------------------------------------------------------------

# (key, Chinese header, Excel number format)
BUNDLE_COLUMNS = (("code", "事项编码", "@"), ("name", "一件事名称", "@"), ("issued", "取号数", "0"),
                  ("served", "办结数", "0"), ("no_show", "过号数", "0"),
                  ("wait_p50_min", "等候时间中位数（分钟）", "0.0"),
                  ("wait_p90_min", "等候时间90分位（分钟）", "0.0"),
                  ("service_avg_min", "平均办理时长（分钟）", "0.0"))
WINDOW_COLUMNS = (("number", "窗口号", "0"), ("name", "窗口名称", "@"), ("served", "办结数", "0"),
                  ("busy_min", "办理用时（分钟）", "0.0"), ("busy_share", "忙碌占比", "0.0%"))
RATING_COLUMNS = (("count", "评价数", "0"), ("good_share", "好评率（满意及以上）", "0.0%"),
                  ("bad", "差评数", "0"), ("average", "平均等级", "0.00"))
SHEETS = ("按事项", "按窗口", "好差评")


def _sections(report: dict[str, Any]) -> list[tuple[str, tuple[tuple[str, str, str], ...],
                                                     list[dict[str, Any]]]]:
    return [(SHEETS[0], BUNDLE_COLUMNS, report["bundles"]),
            (SHEETS[1], WINDOW_COLUMNS, report["windows"]),
            (SHEETS[2], RATING_COLUMNS, [report["ratings"]])]


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
    book.properties.title = f"{report['hall_name']} {report['date']} 日报"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese), the sections one after another."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["大厅", report["hall_name"], report["hall"]])
    writer.writerow(["日期", report["date"]])
    for title, columns, rows in _sections(report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow([header for _, header, _ in columns])
        for row in rows:
            writer.writerow(["" if row.get(key) is None else row.get(key) for key, _, _ in columns])
    return out.getvalue().encode("utf-8-sig")


def filename(report: dict[str, Any], ext: str) -> str:
    return f"govhall-{report['hall']}-{report['date']}.{ext}"
