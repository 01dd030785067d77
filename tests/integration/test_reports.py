"""The daily report: a day seeded through the services at known times, its figures computed again here."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from queue_server.services import calling, evaluations, reports, tickets

from .helpers import HALL, wid

B = "/api/v1"
NINE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, Monday
OPEN_MIN = 8 * 60  # the demo hall opens 09:00–17:00

# (minute after 09:00, action, argument): takes name a bundle, the others a window number
SCRIPT = [
    (0, "take", "newborn"), (1, "take", "retirement"), (2, "take", "newborn"), (3, "take", "retirement"),
    (5, "take", "newborn"), (6, "call", 1), (7, "start", 1), (8, "call", 2), (10, "take", "newborn"),
    (15, "start", 2), (19, "finish", 1), (20, "take", "retirement"), (21, "call", 1), (25, "no_show", 1),
    (26, "call", 1), (30, "take", "social-security-card"), (33, "finish", 2), (34, "call", 2),
    (40, "finish", 1), (41, "call", 1), (42, "start", 1), (50, "finish", 1), (52, "finish", 2),
    (55, "call", 2), (56, "transfer", 2),
]
RATINGS = [("A001", 5), ("E001", 4), ("A004", 2), ("E002", 3)]


def seed_day(database):
    """Run SCRIPT through the services; the record of every ticket as this test saw it."""
    seen: dict[str, dict] = {}
    current: dict[int, str] = {}
    for minute, action, arg in SCRIPT:
        at = NINE + timedelta(minutes=minute)
        if action == "take":
            t = tickets.take_ticket(database, HALL, arg, at).ticket
            seen[t.number] = {"bundle": arg, "taken": at, "status": "waiting", "token": t.track_token}
            continue
        window = wid(database, arg)
        if action == "call":
            number = calling.call_next(database, window, at).ticket.number
            seen[number].update(called=at, window=arg, status="called")
            current[arg] = number
        elif action == "start":
            calling.start(database, window, at)
            seen[current[arg]]["started"] = at
        elif action == "finish":
            calling.finish(database, window, at)
            seen[current.pop(arg)].update(finished=at, status="done")
        elif action == "no_show":
            calling.no_show(database, window, at)
            seen[current.pop(arg)]["status"] = "no_show"
        elif action == "transfer":
            calling.transfer(database, window, at, to_bundle="social-security-card")
            seen[current.pop(arg)].update(bundle="social-security-card", status="waiting")
    for number, level in RATINGS:
        reasons = ("long_wait",) if level <= 2 else ()
        evaluations.rate_ticket(database, seen[number]["token"],
                                evaluations.Rating(level, reasons, None, "pad"), NINE + timedelta(hours=2))
    return seen


def seed_next_day(database):
    """A ticket served and rated the next day: it must not count."""
    at = NINE + timedelta(days=1)
    token = tickets.take_ticket(database, HALL, "newborn", at).ticket.track_token
    calling.call_next(database, wid(database, 1), at + timedelta(minutes=3))
    calling.finish(database, wid(database, 1), at + timedelta(minutes=9))
    evaluations.rate_ticket(database, token, evaluations.Rating(1, ("attitude",), None, "pad"),
                            at + timedelta(minutes=10))


def mins(delta):
    return delta.total_seconds() / 60


def p50_p90(values):
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return deciles[4], deciles[8]


def expected(seen):
    """The report's figures, computed from what the test did (not from the database)."""
    prefix = {"newborn": "A", "retirement": "E", "social-security-card": "C"}
    by_prefix = {v: k for k, v in prefix.items()}
    bundles = defaultdict(lambda: {"issued": 0, "served": 0, "no_show": 0, "waits": [], "services": []})
    windows = defaultdict(lambda: {"served": 0, "busy": 0.0})
    for number, t in seen.items():
        bundles[by_prefix[number[0]]]["issued"] += 1
        b = bundles[t["bundle"]]
        if "called" in t:
            b["waits"].append(mins(t["called"] - t["taken"]))
        if t["status"] == "no_show":
            b["no_show"] += 1
        if t["status"] == "done":
            service = mins(t["finished"] - t.get("started", t["called"]))
            b["served"] += 1
            b["services"].append(service)
            windows[t["window"]]["served"] += 1
            windows[t["window"]]["busy"] += service
    levels = [level for _, level in RATINGS]
    return bundles, windows, {"count": len(levels), "good_share": sum(lv >= 4 for lv in levels) / len(levels)}


def check(report, seen):
    bundles, windows, ratings = expected(seen)
    rows = {b["code"]: b for b in report["bundles"]}
    assert set(bundles) <= set(rows)
    for code, row in rows.items():
        want = bundles.get(code, {"issued": 0, "served": 0, "no_show": 0, "waits": [], "services": []})
        assert (row["issued"], row["served"], row["no_show"]) == (want["issued"], want["served"],
                                                                    want["no_show"]), code
        p50, p90 = p50_p90(want["waits"])
        for got, value in ((row["wait_p50_min"], p50), (row["wait_p90_min"], p90)):
            assert (got is None) if value is None else got == pytest.approx(value, abs=0.051), code
        services = want["services"]
        avg = statistics.fmean(services) if services else None
        assert (row["service_avg_min"] is None) if avg is None else row["service_avg_min"] == pytest.approx(avg, abs=0.051)
    by_number = {w["number"]: w for w in report["windows"]}
    assert len(by_number) == 24
    for number, w in by_number.items():
        want = windows.get(number, {"served": 0, "busy": 0.0})
        assert w["served"] == want["served"]
        assert w["busy_share"] == pytest.approx(want["busy"] / OPEN_MIN, abs=0.0006)
    assert report["ratings"]["count"] == ratings["count"]
    assert report["ratings"]["good_share"] == pytest.approx(ratings["good_share"], abs=0.0006)


def test_the_daily_figures_match_the_tickets(database):
    seen = seed_day(database)
    seed_next_day(database)
    report = reports.daily_report(database, HALL, date(2026, 11, 23))
    assert report["hall"] == "demo" and report["date"] == "2026-11-23"
    check(report, seen)
    # the hand-made figures this scenario gives, as a second check on `expected` itself
    a = next(b for b in report["bundles"] if b["code"] == "newborn")
    assert (a["issued"], a["served"], a["no_show"]) == (4, 3, 1)
    assert (a["wait_p50_min"], a["wait_p90_min"], a["service_avg_min"]) == (24.0, 30.4, 12.7)
    c = next(b for b in report["bundles"] if b["code"] == "social-security-card")
    assert c["issued"] == 1 and c["wait_p50_min"] == 35.0  # E003 transferred here keeps its letter
    assert report["ratings"]["good_share"] == 0.5 and report["ratings"]["by_level"]["2"] == 1
    empty = reports.daily_report(database, HALL, date(2026, 11, 22))
    assert all(b["issued"] == 0 and b["wait_p50_min"] is None for b in empty["bundles"])
    assert empty["ratings"] == {"count": 0, "good_share": None, "bad": 0, "average": None,
                                "by_level": {str(lv): 0 for lv in range(5, 0, -1)}}


def test_percentile_interpolates_linearly():
    assert reports.percentile([], 0.5) is None
    assert reports.percentile([7.0], 0.9) == 7.0
    assert reports.percentile([6, 19, 29, 31], 0.5) == 24
    assert reports.percentile([6, 19, 29, 31], 0.9) == pytest.approx(30.4)
    data = [3.5, 1, 9, 4, 4, 12, 0.5]
    assert reports.percentile(data, 0.9) == pytest.approx(statistics.quantiles(data, n=10, method="inclusive")[8])


# --- the API ---------------------------------------------------------------------------------------

URL = f"{B}/halls/demo/reports/daily?date=2026-11-23"


def test_the_report_is_for_managers(client, login):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=login("clerk1")).status_code == 403
    assert client.get(f"{B}/halls/nowhere/reports/daily", headers=login("manager")).status_code == 404
    assert client.get(f"{URL}&format=pdf", headers=login("manager")).status_code in (400, 422)
    assert client.get(f"{B}/halls/demo/reports/daily?date=2026-02-30",
                      headers=login("manager")).status_code in (400, 422)


def test_json_shape_is_the_contract(client, sqlite_db, login):
    seen = seed_day(sqlite_db)
    r = client.get(URL, headers=login("manager"))
    assert r.status_code == 200 and r.mimetype == "application/json"
    report = r.get_json()
    assert {"hall", "date", "bundles", "windows", "ratings"} <= set(report)
    assert {"code", "issued", "served", "no_show", "wait_p50_min", "wait_p90_min",
            "service_avg_min"} <= set(report["bundles"][0])
    assert {"number", "served", "busy_share"} <= set(report["windows"][0])
    assert {"count", "good_share"} <= set(report["ratings"])
    check(report, seen)


def test_xlsx_has_a_sheet_per_section_with_chinese_headers(client, sqlite_db, login):
    seed_day(sqlite_db)
    manager = login("manager")
    report = client.get(URL, headers=manager).get_json()
    r = client.get(f"{URL}&format=xlsx", headers=manager)
    assert r.status_code == 200 and r.mimetype == reports_xlsx_type()
    assert r.headers["Content-Disposition"] == 'attachment; filename="govhall-demo-2026-11-23.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["按事项", "按窗口", "好差评"]
    sheet = book["按事项"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["事项编码", "一件事名称", "取号数", "办结数", "过号数"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    for b in report["bundles"]:
        assert list(rows[b["code"]]) == [b["code"], b["name"], b["issued"], b["served"], b["no_show"],
                                         b["wait_p50_min"], b["wait_p90_min"], b["service_avg_min"]]
    newborn_row = next(i for i, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2)
                       if row[0] == "newborn")
    assert sheet.cell(newborn_row, 6).number_format == "0.0"
    windows = book["按窗口"]
    assert [c.value for c in windows[1]] == ["窗口号", "窗口名称", "办结数", "办理用时（分钟）", "忙碌占比"]
    assert windows.cell(2, 5).number_format == "0.0%"
    assert windows.cell(2, 5).value == report["windows"][0]["busy_share"]
    ratings = book["好差评"]
    assert [c.value for c in ratings[1]][:2] == ["评价数", "好评率（满意及以上）"]
    assert [c.value for c in ratings[2]][:2] == [report["ratings"]["count"], report["ratings"]["good_share"]]


def reports_xlsx_type():
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_csv_has_a_bom_and_the_sections_one_after_another(client, sqlite_db, login):
    seed_day(sqlite_db)
    manager = login("manager")
    report = client.get(URL, headers=manager).get_json()
    r = client.get(f"{URL}&format=csv", headers=manager)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="govhall-demo-2026-11-23.csv"'
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["大厅", "示范市政务服务中心"] and rows[1] == ["日期", "2026-11-23"]
    titles = [i for i, row in enumerate(rows) if row in (["按事项"], ["按窗口"], ["好差评"])]
    assert [rows[i][0] for i in titles] == ["按事项", "按窗口", "好差评"]
    start = titles[0] + 1
    assert rows[start][:3] == ["事项编码", "一件事名称", "取号数"]
    section = {row[0]: row for row in rows[start + 1:titles[1] - 1]}
    for b in report["bundles"]:
        row = section[b["code"]]
        assert int(row[2]) == b["issued"] and int(row[3]) == b["served"]
        assert (row[5] == "") if b["wait_p50_min"] is None else float(row[5]) == b["wait_p50_min"]
    windows = rows[titles[1] + 2:titles[2] - 1]
    assert len(windows) == 24 and windows[0][0] == "1"
    assert rows[titles[2] + 2][:2] == [str(report["ratings"]["count"]), str(report["ratings"]["good_share"])]
