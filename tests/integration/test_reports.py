"""The reports: days and a week seeded through the services at known times, their figures computed again here."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from queue_server.catalogue import load_catalogue
from queue_server.models import Staff
from queue_server.queue.priority import Identity
from queue_server.services import applications, appointments, calling, evaluations, reports, settings, tickets

from ..conftest import TEST_SECRET
from .helpers import HALL, wid
from .test_applications import PERSON, newborn_form

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


def seed_day(database, start=NINE, script=SCRIPT, ratings=RATINGS, clerks=None, seen=None):
    """Run `script` from `start` through the services; the record of every ticket as this test saw it.

    `clerks` ({window number: username}) has those windows call as that clerk (ratings name them);
    `seen` continues the record of an earlier script of the same day.
    """
    seen = {} if seen is None else seen
    current: dict[int, str] = {}
    clerks = clerks or {}
    for minute, action, arg in script:
        at = start + timedelta(minutes=minute)
        if action == "take":
            t = tickets.take_ticket(database, HALL, arg, at).ticket
            seen[t.number] = {"number": t.number, "bundle": arg, "taken": at, "status": "waiting",
                              "token": t.track_token}
            continue
        window = wid(database, arg)
        if action == "call":
            staff_id = staff_id_of(database, clerks[arg]) if arg in clerks else None
            number = calling.call_next(database, window, at, staff_id=staff_id).ticket.number
            seen[number].update(called=at, window=arg, status="called", clerk=clerks.get(arg))
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
            seen[current.pop(arg)].update(bundle="social-security-card", status="waiting", window=None)
    for number, level in ratings:
        reasons = ("long_wait",) if level <= 2 else ()
        evaluations.rate_ticket(database, seen[number]["token"],
                                evaluations.Rating(level, reasons, None, "pad"), start + timedelta(hours=8))
        seen[number]["level"] = level
    return seen


def staff_id_of(database, username):
    with database.read() as db:
        return db.scalars(select(Staff.id).where(Staff.username == username)).one()


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


def expected(seen, ratings=RATINGS):
    """The report's figures, computed from what the test did (not from the database)."""
    prefix = {"newborn": "A", "retirement": "E", "social-security-card": "C"}
    by_prefix = {v: k for k, v in prefix.items()}
    bundles = defaultdict(lambda: {"issued": 0, "served": 0, "no_show": 0, "waits": [], "services": []})
    windows = defaultdict(lambda: {"served": 0, "busy": 0.0})
    for t in seen.values():
        bundles[by_prefix[t["number"][0]]]["issued"] += 1
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
    levels = [level for _, level in ratings]
    return bundles, windows, {"count": len(levels), "good_share": sum(lv >= 4 for lv in levels) / len(levels)}


def check(report, seen, ratings=RATINGS, open_min=OPEN_MIN):
    bundles, windows, ratings = expected(seen, ratings)
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
        assert w["busy_share"] == pytest.approx(want["busy"] / open_min, abs=0.0006)
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
    assert book.sheetnames == ["按事项", "按窗口", "好差评", "按时段", "窗口好评率", "事项好评率",
                               "经办人好评率", "预约", "一件事成效", "帮办代办"]
    sheet = book["按事项"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["事项编码", "一件事名称", "取号数", "办结数", "过号数"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    for b in report["bundles"]:
        assert list(rows[b["code"]]) == [b["code"], b["name"], b["issued"], b["served"], b["no_show"],
                                         b["wait_p50_min"], b["wait_p90_min"], b["service_avg_min"],
                                         b["no_show_rate"]]
    newborn_row = next(i for i, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2)
                       if row[0] == "newborn")
    assert sheet.cell(newborn_row, 6).number_format == "0.0"
    windows = book["按窗口"]
    assert [c.value for c in windows[1]] == ["窗口号", "窗口名称", "办结数", "办理用时（分钟）", "忙碌占比", "叫号数"]
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


# --- hours, ratings by window, bundle and clerk, appointments, self-service, 一件事 ------------------

AFTERNOON = [(300, "take", "newborn"), (301, "take", "retirement"), (302, "call", 3), (303, "call", 4),
             (310, "finish", 3), (311, "call", 3), (318, "finish", 3), (320, "finish", 4)]
AFTERNOON_RATINGS = [("E003", 1), ("A005", 5), ("C001", 4)]
LOCAL = timedelta(hours=8)  # Asia/Shanghai


def seed_applications(database):
    """Two newborn applications at a kiosk and one taken at a window; the forms as stored."""
    forms = []
    for minute, source in ((100, "kiosk"), (130, "kiosk"), (160, "staff")):
        sub = applications.Submission(HALL, "newborn", PERSON, newborn_form())
        done = applications.submit(database, sub, NINE + timedelta(minutes=minute), secret=TEST_SECRET,
                                   actor="device:1", source=source)
        forms.append((source, done.data["form"]))
    return forms


def hour_counts(seen):
    counts = defaultdict(lambda: [0, 0, 0])
    for t in seen.values():
        counts[(t["taken"] + LOCAL).hour][0] += 1
        if "called" in t:
            counts[(t["called"] + LOCAL).hour][1] += 1
        if t["status"] == "done":
            counts[(t["finished"] + LOCAL).hour][2] += 1
    return counts


def rated_groups(seen, key):
    groups = defaultdict(list)
    for t in seen.values():
        if "level" in t and t.get(key) is not None:
            groups[t[key]].append(t["level"])
    return {k: (len(v), sum(lv >= 4 for lv in v), sum(lv <= 2 for lv in v)) for k, v in groups.items()}


def test_hours_ratings_by_and_the_one_thing_figures(database):
    seen = seed_day(database)
    seed_day(database, script=AFTERNOON, ratings=AFTERNOON_RATINGS, clerks={3: "clerk3", 4: "clerk4"},
             seen=seen)
    forms = seed_applications(database)
    seed_next_day(database)
    report = reports.daily_report(database, HALL, date(2026, 11, 23))
    check(report, seen, ratings=RATINGS + AFTERNOON_RATINGS)

    hours = {h["hour"]: h for h in report["hours"]}
    assert min(hours) == 9 and max(hours) >= 16 and sorted(hours) == list(range(min(hours), max(hours) + 1))
    counts = hour_counts(seen)
    for hour, h in hours.items():
        assert [h["issued"], h["called"], h["served"]] == counts.get(hour, [0, 0, 0]), hour
    assert sum(h["issued"] for h in hours.values()) == len(seen)

    by = report["ratings_by"]
    windows = {w["number"]: (w["count"], w["good"], w["bad"]) for w in by["windows"]}
    assert windows == rated_groups(seen, "window")
    assert {b["code"]: (b["count"], b["good"], b["bad"]) for b in by["bundles"]} == rated_groups(seen, "bundle")
    assert {c["username"]: (c["count"], c["good"], c["bad"]) for c in by["clerks"]} == rated_groups(seen, "clerk")
    assert {c["username"] for c in by["clerks"]} == {"clerk3", "clerk4"}
    for row in by["windows"] + by["bundles"] + by["clerks"]:
        assert row["good_share"] == pytest.approx(row["good"] / row["count"], abs=0.0006)

    # self-service and 一件事: the catalogue's declarations times the cases counted here
    catalogue = {b.code: b for b in load_catalogue().bundles}
    one = {r["code"]: r for r in report["one_thing"]["bundles"]}
    served = defaultdict(int)
    for t in seen.values():
        served[t["bundle"]] += t["status"] == "done"
    kiosk = sum(source == "kiosk" for source, _ in forms)
    newborn = catalogue["newborn"]
    cases = served["newborn"] + kiosk
    row = one["newborn"]
    assert (row["served"], row["kiosk"], row["staff_applications"], row["cases"]) == (served["newborn"], 2, 1, cases)
    assert row["visits_saved"] == cases * (newborn.visits_before - newborn.visits_after) == cases * 3
    handed = sum(not m.exempt for m in newborn.materials)
    assert row["materials_saved"] == cases * (newborn.materials_before - handed)
    assert row["self_service_share"] == pytest.approx(kiosk / (kiosk + served["newborn"]), abs=0.0006)
    assert one["retirement"]["visits_saved"] is None  # the catalogue declares nothing for it
    identity = {f.key for f in newborn.form if f.identity is not None}
    filled = [{k for k, v in form.items() if v not in (None, "")} for _, form in forms]
    want = sum(len(f & identity) for f in filled) / sum(len(f) for f in filled)
    assert 0 < want < 1
    assert row["identity_share"] == pytest.approx(want, abs=0.0006)
    total = report["one_thing"]["total"]
    assert total["kiosk"] == 2 and total["served"] == sum(served.values())
    assert total["self_service_share"] == pytest.approx(2 / (2 + sum(served.values())), abs=0.0006)
    assert total["identity_share"] == pytest.approx(want, abs=0.0006)


def test_appointments_booked_kept_late_missed(database):
    booked_at = NINE - timedelta(minutes=10)
    slots = [NINE + timedelta(hours=1, minutes=30 * i) for i in range(4)]  # 10:00, 10:30, 11:00, 11:30
    codes = [appointments.book(database, HALL, "real-estate", slot,
                               Identity(f"hash-{i}", date(1990, 1, 1), "张*"), booked_at).code
             for i, slot in enumerate(slots)]
    appointments.check_in(database, codes[0], slots[0] + timedelta(minutes=5))  # late
    appointments.check_in(database, codes[1], slots[1] - timedelta(minutes=10))  # early enough
    appointments.cancel(database, codes[3], "hash-3", booked_at + timedelta(minutes=1))
    during = reports.daily_report(database, HALL, date(2026, 11, 23), now=slots[2] + timedelta(minutes=5))
    assert during["appointments"] == {"booked": 3, "kept": 2, "late": 1, "missed": 0, "cancelled": 1,
                                      "pending": 1, "kept_share": 1.0}
    evening = reports.daily_report(database, HALL, date(2026, 11, 23), now=NINE + timedelta(hours=9))
    assert evening["appointments"] == {"booked": 3, "kept": 2, "late": 1, "missed": 1, "cancelled": 1,
                                       "pending": 0, "kept_share": round(2 / 3, 3)}
    other_day = reports.daily_report(database, HALL, date(2026, 11, 24), now=NINE + timedelta(days=2))
    assert other_day["appointments"]["booked"] == 0


# --- a week and a month ---------------------------------------------------------------------------

DAY = timedelta(days=1)
TUESDAY_SCRIPT = [(0, "take", "newborn"), (3, "call", 1), (9, "finish", 1)]


def seed_week(database):
    """Monday and Thursday run SCRIPT, Tuesday one ticket; the next Monday one more (not in the week)."""
    week: dict[str, dict] = {}
    ratings = []
    for offset, script, rated in ((0, SCRIPT, RATINGS), (1, TUESDAY_SCRIPT, [("A001", 1)]),
                                  (3, SCRIPT, RATINGS)):
        seen = seed_day(database, start=NINE + offset * DAY, script=script, ratings=rated)
        week.update({f"{offset}:{number}": t for number, t in seen.items()})
        ratings += rated
    later = seed_day(database, start=NINE + 7 * DAY, script=TUESDAY_SCRIPT, ratings=[("A001", 5)])
    return week, ratings, {f"7:{n}": t for n, t in later.items()}


def test_the_weekly_and_monthly_figures_match_the_tickets(database):
    week, ratings, next_monday = seed_week(database)
    report = reports.period_report(database, HALL, "weekly", date(2026, 11, 26))
    assert (report["period"], report["start"], report["end"]) == ("weekly", "2026-11-23", "2026-11-29")
    assert report["open_days"] == 5
    check(report, week, ratings=ratings, open_min=OPEN_MIN * 5)
    counts = hour_counts(week)
    assert {h["hour"]: [h["issued"], h["called"], h["served"]] for h in report["hours"] if h["issued"] or h["called"]
            or h["served"]} == dict(counts)
    newborn = next(b for b in report["bundles"] if b["code"] == "newborn")
    assert newborn["issued"] == 4 + 1 + 4 and newborn["no_show_rate"] == round(2 / 9, 3)

    # the holiday calendar sets the days the busy share is spread over
    settings.set_day(database, HALL, date(2026, 11, 27), "closed", "测试休息日", NINE, "staff:manager")
    assert reports.period_report(database, HALL, "weekly", date(2026, 11, 23))["open_days"] == 4
    settings.set_day(database, HALL, date(2026, 11, 28), "working", "调休上班", NINE, "staff:manager")
    again = reports.period_report(database, HALL, "weekly", date(2026, 11, 29))
    assert again["open_days"] == 5
    check(again, week, ratings=ratings, open_min=OPEN_MIN * 5)

    month = reports.period_report(database, HALL, "monthly", date(2026, 11, 5))
    assert (month["start"], month["end"]) == ("2026-11-01", "2026-11-30")
    days = [date(2026, 11, 1) + i * DAY for i in range(30)]
    working = [d for d in days if (d.weekday() < 5 and d != date(2026, 11, 27)) or d == date(2026, 11, 28)]
    assert month["open_days"] == len(working) == 21
    check(month, {**week, **next_monday}, ratings=[*ratings, ("A001", 5)], open_min=OPEN_MIN * 21)


WEEK_URL = f"{B}/halls/demo/reports/weekly?date=2026-11-25"


def test_weekly_and_monthly_over_the_api_with_exports(client, sqlite_db, login):
    week, ratings, _ = seed_week(sqlite_db)
    assert client.get(WEEK_URL).status_code == 401
    assert client.get(WEEK_URL, headers=login("clerk1")).status_code == 403
    manager = login("manager")
    assert client.get(f"{B}/halls/demo/reports/yearly", headers=manager).status_code == 404
    report = client.get(WEEK_URL, headers=manager).get_json()
    assert (report["period"], report["date"], report["end"]) == ("weekly", "2026-11-23", "2026-11-29")
    check(report, week, ratings=ratings, open_min=OPEN_MIN * 5)
    assert {"hours", "appointments", "ratings_by", "one_thing", "assist"} <= set(report)

    r = client.get(f"{WEEK_URL}&format=xlsx", headers=manager)
    assert r.headers["Content-Disposition"] == 'attachment; filename="govhall-demo-2026-11-23-week.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.properties.title == "示范市政务服务中心 2026-11-23 至 2026-11-29 周报"
    hours = list(book["按时段"].iter_rows(min_row=2, values_only=True))
    assert hours == [(h["label"], h["issued"], h["called"], h["served"]) for h in report["hours"]]
    rated = list(book["窗口好评率"].iter_rows(min_row=2, values_only=True))
    assert [row[:5] for row in rated] == [(w["number"], w["name"], w["count"], w["good"], w["bad"])
                                          for w in report["ratings_by"]["windows"]]
    one = list(book["一件事成效"].iter_rows(min_row=2, values_only=True))
    assert one[-1][0] == "合计" and one[-1][2] == report["one_thing"]["total"]["served"]
    assert book["预约"].cell(2, 1).value == report["appointments"]["booked"]

    r = client.get(f"{WEEK_URL}&format=csv", headers=manager)
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[1] == ["日期", "2026-11-23 至 2026-11-29"]
    assert ["按时段"] in rows and ["一件事成效"] in rows and ["帮办代办"] in rows

    month = client.get(f"{B}/halls/demo/reports/monthly?date=2026-11-30&format=csv", headers=manager)
    assert month.headers["Content-Disposition"] == 'attachment; filename="govhall-demo-2026-11.csv"'
    assert client.get(f"{B}/halls/demo/reports/monthly?date=2026-11-30",
                      headers=manager).get_json()["open_days"] == 21
