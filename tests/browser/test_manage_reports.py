"""The manager console's weekly report, settings editor and holiday calendar, appointment list, and the
办件激增预警 banner shown live — in a real browser against a real server."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import screenshot
from .test_manage import console, expect, open_view, take, window_by_number
from .test_rating import serve

pytestmark = pytest.mark.browser
ZONE = ZoneInfo("Asia/Shanghai")
FMT = "%Y-%m-%d %H:%M:%S.%f"


def local_today() -> date:
    return datetime.now(ZONE).date()


def shift(server, number: str, days: int, at_min: int, wait_min: int, service_min: int) -> None:
    """Move today's served ticket `number` `days` back, taken `at_min` after 09:00 (hall time) there,
    called `wait_min` later and served `service_min`."""
    path = server.database_url.removeprefix("sqlite:///")
    today = local_today()
    day = today - timedelta(days=days)
    taken = datetime.combine(day, time(9), ZONE) + timedelta(minutes=at_min)
    start = taken + timedelta(minutes=wait_min)
    end = start + timedelta(minutes=service_min)
    utc = [(t.astimezone(UTC)).strftime(FMT) for t in (taken, start, end)]
    with sqlite3.connect(path) as db:
        # renumbered so the day's numbers stay unique
        db.execute("UPDATE ticket SET number = ?, service_day = ?, taken_at = ?, queue_at = ?, called_at = ?, "
                   "started_at = ?, finished_at = ? WHERE number = ? AND service_day = ?",
                   (f"{number[0]}9{number[2:]}", day.isoformat(), utc[0], utc[0], utc[1], utc[1], utc[2],
                    number, today.isoformat()))
    db.close()


def test_the_weekly_report_draws_hours_bundles_windows_and_the_one_thing_table(live_server, page_at) -> None:
    manager = live_server.login("manager")
    weekday = local_today().weekday()  # the days of this week so far, today included
    served = []
    for number, count in ((1, 4), (5, 3), (16, 3), (14, 2)):
        win = window_by_number(live_server, manager, number)
        clerk = live_server.login(f"clerk{number}")
        for i in range(count):
            take(live_server, manager, win["bundles"][0]["code"])
            ticket = serve(live_server, clerk, win["id"])
            shift(live_server, ticket["number"], days=(i * 2 + number) % (weekday + 1),
                  at_min=(len(served) * 37) % 420, wait_min=5 + 6 * i + number, service_min=7 + 2 * i)
            served.append(ticket)
    for t, level in zip(served[:6], (5, 5, 4, 2, 5, 1), strict=True):
        live_server.call("POST", "/evaluations", None, {"ticket": t["track_token"], "level": level, "channel": "pad",
                                                        **({"reasons": ["long_wait"]} if level <= 2 else {})})
    status, report = live_server.call("GET", "/halls/demo/reports/weekly", manager)
    assert status == 200 and report["period"] == "weekly"
    assert sum(b["served"] for b in report["bundles"]) == len(served) == 12

    page = console(page_at, live_server)
    open_view(page, "reports")
    expect(page.locator("#view-reports")).to_have_attribute("data-period", "daily", timeout=10000)
    page.click("#rep-period button[data-period='weekly']")
    expect(page.locator("#view-reports")).to_have_attribute("data-period", "weekly", timeout=10000)
    expect(page.locator("#view-reports")).to_have_attribute("data-loaded", report["start"])
    expect(page.locator("#rep-title")).to_have_text("周报表")
    expect(page.locator("#k-served")).to_have_text("12")
    good = report["ratings"]["good_share"]
    expect(page.locator("#k-good")).to_have_text(f"{good * 100:.1f}".removesuffix(".0"))
    for chart in ("hour", "bundle", "window"):
        expect(page.locator(f"#rep-{chart}-chart canvas")).to_have_count(1)
    expect(page.locator("#rep-windows tbody tr[data-window]")).to_have_count(4)
    expect(page.locator("#rep-rated-windows tbody tr")).to_have_count(len(report["ratings_by"]["windows"]))
    expect(page.locator("#rep-one-thing tbody tr.r-total")).to_have_count(1)
    with page.expect_download() as info:
        page.click("#rep-xlsx")
    assert info.value.suggested_filename == f"govhall-demo-{report['start']}-week.xlsx"
    page.wait_for_timeout(500)  # the bars' entrance animation
    screenshot(page, "manage-reports-week")
    page.locator("#rep-assist").scroll_into_view_if_needed()
    screenshot(page, "manage-reports-week-tables")


def next_weekday(after: date, weekday: int) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7 or 7)


def test_the_settings_editor_and_the_holiday_calendar(live_server, page_at) -> None:
    manager = live_server.login("manager")
    page = console(page_at, live_server)
    open_view(page, "settings")
    expect(page.locator("#st-grace_min")).to_have_value("10", timeout=10000)
    expect(page.locator("#st-save")).to_be_disabled()
    page.fill("#st-grace_min", "20")
    page.fill("#st-walk_in_percent", "95")
    page.fill("#st-bundles tr[data-code='newborn'] input[data-field='waiting']", "6")
    expect(page.locator("#st-diff")).to_have_text("已修改 3 项，尚未保存")
    page.click("#st-save")
    expect(page.locator("#st-error")).to_contain_text("0 到 90")  # refused before it reaches the server
    page.fill("#st-walk_in_percent", "40")
    page.click("#st-save")
    expect(page.locator("#toasts .toast").last).to_contain_text("大厅设置已保存")
    expect(page.locator("#st-diff")).to_have_text("未修改")
    status, settings = live_server.call("GET", "/halls/demo/settings", manager)
    assert status == 200 and (settings["grace_min"], settings["walk_in_percent"]) == (20, 40)
    newborn = next(b for b in settings["bundles"] if b["code"] == "newborn")
    assert (newborn["waiting"], newborn["wait_min"]) == (6, None)  # the empty field: the hall's value

    # a holiday: the booking page no longer offers that day
    holiday = next_weekday(local_today(), 2)  # the next Wednesday
    page.fill("#cal-date", holiday.isoformat())
    page.select_option("#cal-kind", "closed")
    page.fill("#cal-note", "测试假日")
    page.click("#cal-add")
    expect(page.locator(f"#cal-rows tr[data-date='{holiday.isoformat()}']")).to_contain_text("休息（不办公）")
    saturday = next_weekday(local_today(), 5)
    page.fill("#cal-date", saturday.isoformat())
    page.select_option("#cal-kind", "closed")
    page.click("#cal-add")
    expect(page.locator("#cal-error")).to_contain_text("周末本来就不办公")
    page.select_option("#cal-kind", "working")
    page.fill("#cal-note", "调休上班")
    page.click("#cal-add")
    expect(page.locator(f"#cal-rows tr[data-date='{saturday.isoformat()}']")).to_contain_text("调休上班")
    status, slots = live_server.call("GET", "/halls/demo/appointments/slots?bundle=newborn", None)
    assert status == 200 and slots["grace_min"] == 20
    assert holiday.isoformat() not in slots["days"]
    assert saturday.isoformat() in slots["days"]  # within the 7 days ahead: a worked weekend day
    status, audit = live_server.call("GET", "/halls/demo/audit", manager)
    assert status == 200
    actions = [e["action"] for e in audit["entries"]]
    assert actions.count("settings.update") == 1 and actions.count("calendar.set") == 2
    page.wait_for_timeout(300)
    screenshot(page, "manage-settings")


def test_the_surge_alert_is_shown_live_and_clears(live_server, page_at) -> None:
    manager = live_server.login("manager")
    status, _ = live_server.call("PUT", "/halls/demo/settings", manager,
                                 {"bundles": [{"code": "newborn", "waiting": 3, "wait_min": 40}]})
    assert status == 200
    sixteen = window_by_number(live_server, manager, 16)  # newborn's own 专窗
    assert live_server.call("PUT", f"/windows/{sixteen['id']}/open", manager, {"open": False})[0] == 200
    page = console(page_at, live_server)
    surge = page.locator("#surge")
    expect(surge).to_be_hidden()
    for _ in range(3):
        take(live_server, manager, "newborn")
    expect(surge).to_be_visible(timeout=5000)  # pushed: no reload, no poll this soon
    item = surge.locator(".s-item[data-bundle='newborn']")
    expect(item).to_contain_text("等候 3 人（预警值 3）")
    expect(item.locator(".s-do").first).to_contain_text("16号窗口")
    expect(item.locator(".s-do").first).to_contain_text("关闭")
    page.wait_for_timeout(400)
    screenshot(page, "manage-alert")
    open_view(page, "settings")
    expect(surge).to_be_visible()  # shown over every view
    clerk = live_server.login("clerk1")
    assert live_server.call("POST", f"/windows/{window_by_number(live_server, manager, 1)['id']}/call-next",
                            clerk)[0] == 200
    expect(surge).to_be_hidden(timeout=5000)


def test_the_day_list_of_appointments(live_server, page_at) -> None:
    status, slots = live_server.call("GET", "/halls/demo/appointments/slots?bundle=real-estate", None)
    assert status == 200 and slots["days"]
    day = slots["days"][-1]  # a day ahead: all its slots are still to come
    status, slots = live_server.call("GET", f"/halls/demo/appointments/slots?bundle=real-estate&date={day}", None)
    start = next(s["start"] for s in slots["slots"] if s["remaining"])
    status, booked = live_server.call("POST", "/halls/demo/appointments", None, {
        "bundle": "real-estate", "slot_start": start, "name": "李华", "id_number": "320102199003071239"})
    assert status == 201, booked
    page = console(page_at, live_server)
    open_view(page, "appointments")
    page.fill("#ap-date", slots["date"])
    page.dispatch_event("#ap-date", "change")
    row = page.locator(f"#ap-rows tr[data-code='{booked['code']}']")
    expect(row).to_contain_text("李*")
    expect(row).to_contain_text("待签到")
    expect(page.locator("#ap-counts")).to_contain_text("1待签到")
    page.click("#ap-filter button[data-status='missed']")
    expect(row).to_have_count(0)
