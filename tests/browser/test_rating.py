"""好差评 in a real browser: the window's rating pad asks the citizen once the clerk finishes, a 差评 needs a
reason and opens a case that the manager follows up in the console; the console's daily report draws
its charts and tables.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import pytest

from .conftest import screenshot
from .test_manage import console, expect, open_view, take, window_by_number

pytestmark = pytest.mark.browser


def serve(server, clerk: str, window_id: int) -> dict:
    """The clerk calls, starts and finishes the next ticket at their window: the ticket called."""
    status, called = server.call("POST", f"/windows/{window_id}/call-next", clerk)
    assert status == 200, called
    for action in ("start", "finish"):
        status, body = server.call("POST", f"/windows/{window_id}/{action}", clerk)
        assert status == 200, body
    return called["ticket"]


def rating_pad(server, manager: str) -> str:
    status, device = server.call("POST", "/halls/demo/devices", manager, {"kind": "rating_pad", "name": "pad"})
    assert status == 201, device
    return device["token"]


def test_the_pad_asks_after_finish_and_a_bad_rating_is_followed_up(live_server, page_at) -> None:
    manager = live_server.login("manager")
    clerk = live_server.login("clerk1")
    win = window_by_number(live_server, manager, 1)
    pad_token = rating_pad(live_server, manager)

    pad = page_at(1024, 600)
    pad.goto(f"{live_server.url}/rate/{win['id']}#token={pad_token}")
    pad.wait_for_selector("body[data-ready='1']", timeout=10000)
    expect(pad).not_to_have_url(re.compile("token="))  # the token leaves the address bar
    expect(pad.locator("section[data-screen='idle']")).to_contain_text("请对本次服务进行评价")
    expect(pad.locator("section[data-screen='idle']")).to_contain_text(win["name"])

    take(live_server, manager, win["bundles"][0]["code"])
    ticket = serve(live_server, clerk, win["id"])
    expect(pad.locator("body")).to_have_attribute("data-screen", "rate", timeout=10000)
    faces = pad.locator("#faces button[data-level]")
    expect(faces).to_have_count(5)
    expect(faces).to_have_text(["非常满意", "满意", "基本满意", "不满意", "非常不满意"])
    expect(pad.locator("#rp-what")).to_contain_text(ticket["number"])

    pad.click("#faces button[data-level='2']")
    expect(pad.locator("#reasons-box")).to_be_visible()
    pad.click("#rate-submit")  # no reason: refused on the pad, nothing sent
    expect(pad.locator("#rate-error")).to_contain_text("请至少选择一项原因")
    expect(pad.locator("body")).to_have_attribute("data-screen", "rate")
    status, listed = live_server.call("GET", "/halls/demo/evaluations", manager)
    assert status == 200 and listed["evaluations"] == []

    pad.click("#reasons button[data-reason='long_wait']")
    expect(pad.locator("#reasons button[data-reason='long_wait']")).to_have_attribute("aria-pressed", "true")
    screenshot(pad, "rating-pad")
    pad.click("#rate-submit")
    expect(pad.locator("body")).to_have_attribute("data-screen", "thanks", timeout=5000)
    expect(pad.locator("#thanks-title")).to_have_text("感谢您的评价！")
    status, listed = live_server.call("GET", "/halls/demo/evaluations", manager)
    [ev] = listed["evaluations"]
    assert ev["level"] == 2 and ev["channel"] == "pad" and ev["window"] == 1
    assert pad_token not in str(ev)
    status, _ = live_server.call("GET", f"/windows/{win['id']}/last-finished", pad_token)
    assert status == 404  # rated once: nothing more to offer
    expect(pad.locator("body")).to_have_attribute("data-screen", "idle", timeout=12000)  # back after 8 s

    page = console(page_at, live_server)
    open_view(page, "followup")
    rows = page.locator("#fu-rows tr[data-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("不满意")
    expect(rows.first).to_contain_text("等候时间过长")
    expect(page.locator("#nav-followup")).to_have_text("1")
    rows.first.click()
    expect(page.locator("#fu-submit")).to_have_text("记录核实")
    page.click("#fu-submit")  # an empty note is refused
    expect(page.locator("#fu-error")).to_contain_text("请填写")
    page.fill("#fu-note", "已调取窗口录像，核实等候时间较长")
    page.click("#fu-submit")
    timeline = page.locator("#fu-timeline")
    expect(timeline.locator("li.done")).to_have_count(1)
    expect(timeline.locator("li.done").first).to_contain_text("核实")
    expect(timeline.locator("li.done").first).to_contain_text("已调取窗口录像")
    expect(page.locator("#fu-submit")).to_have_text("记录整改")
    expect(rows.first).to_contain_text("待整改")
    screenshot(page, "manager-followup")
    status, cases = live_server.call("GET", "/halls/demo/followups?state=open", manager)
    assert [s["step"] for s in cases["followups"][0]["steps"]] == ["verify"]


def spread(server, number: str, wait_min: int, service_min: int) -> None:
    """Give a served ticket a realistic past: taken, waited `wait_min`, served `service_min` until it finished."""
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (finished,) = db.execute("SELECT finished_at FROM ticket WHERE number = ?", (number,)).fetchone()
        end = datetime.fromisoformat(finished)
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        start = (end - timedelta(minutes=service_min)).strftime(fmt)
        taken = (end - timedelta(minutes=service_min + wait_min)).strftime(fmt)
        db.execute("UPDATE ticket SET taken_at = ?, queue_at = ?, called_at = ?, started_at = ? WHERE number = ?",
                   (taken, taken, start, start, number))
    db.close()


def test_the_daily_report_draws_charts_and_tables(live_server, page_at) -> None:
    manager = live_server.login("manager")
    served = []
    for number, count in ((1, 3), (5, 2), (7, 2), (10, 1)):
        win = window_by_number(live_server, manager, number)
        clerk = live_server.login(f"clerk{number}")
        for i in range(count):
            take(live_server, manager, win["bundles"][0]["code"])
            ticket = serve(live_server, clerk, win["id"])
            spread(live_server, ticket["number"], wait_min=6 + 7 * i + number, service_min=8 + 3 * i)
            served.append(ticket)
    live_server.call("POST", "/evaluations", None, {"ticket": served[0]["track_token"], "level": 5, "channel": "pad"})
    status, report = live_server.call("GET", "/halls/demo/reports/daily", manager)
    assert status == 200
    assert sum(b["served"] for b in report["bundles"]) == len(served) == 8

    page = console(page_at, live_server)
    open_view(page, "reports")
    expect(page.locator("#view-reports")).to_have_attribute("data-loaded", report["date"], timeout=10000)
    expect(page.locator("#rep-date")).to_have_value(report["date"])
    expect(page.locator("#k-served")).to_have_text("8")
    expect(page.locator("#k-issued")).to_have_text("8")
    expect(page.locator("#k-good")).to_have_text("100")
    expect(page.locator("#rep-bundle-chart canvas")).to_have_count(1)
    expect(page.locator("#rep-window-chart canvas")).to_have_count(1)
    expect(page.locator("#rep-windows tbody tr[data-window]")).to_have_count(4)
    assert page.locator("#rep-bundles tbody tr[data-bundle]").count() >= 1

    with page.expect_download() as info:
        page.click("#rep-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with page.expect_download() as info:
        page.click("#rep-xlsx")
    assert info.value.suggested_filename.endswith(".xlsx")
    page.wait_for_timeout(500)  # the bars' entrance animation
    screenshot(page, "manager-reports")
