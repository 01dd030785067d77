"""The manager console's 调配建议 view in a real browser against a real server: the advice for the rest
of today from the live queue, applying a proposed change, and the previous day's advice beside its
actual waits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server import clock
from queue_server.db import Database
from queue_server.services import calling, tickets
from queue_server.simulate.live import give_advice

from .conftest import screenshot
from .test_manage import console, expect, open_view, take, window_by_number

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def yesterday_with_advice(database_url: str) -> None:
    """Yesterday: three tickets waiting at an advice, called 35, 30 and 25 minutes after they were taken."""
    database = Database(database_url)
    # 10:00 in the hall (Asia/Shanghai) on its yesterday, whatever the time of day the test runs at
    local = clock.now().astimezone(SHANGHAI)
    y = datetime.combine(local.date() - timedelta(days=1), time(10, 0), SHANGHAI).astimezone(UTC)
    for m in (30, 20, 10):
        tickets.take_ticket(database, "demo", "real-estate", y - timedelta(minutes=m))
    give_advice(database, "demo", y, "staff:manager", budget_s=0.5)
    window = window_by_id(database, 7)
    for m in (5, 10, 15):
        calling.call_next(database, window, y + timedelta(minutes=m))
    database.dispose()


def window_by_id(database: Database, number: int) -> int:
    from sqlalchemy import select

    from queue_server.models import Window

    with database.read() as db:
        return db.scalars(select(Window.id).where(Window.number == number)).one()


def test_advice_view_proposes_changes_applies_one_and_checks_yesterday(live_server, page_at) -> None:
    yesterday_with_advice(live_server.database_url)
    token = live_server.login("manager")
    # a lopsided morning: the 综合受理 windows closed, a long 不动产登记 line, the enterprise windows idle
    for number in range(1, 7):
        window = window_by_number(live_server, token, number)
        status, _ = live_server.call("PUT", f"/windows/{window['id']}/open", token, {"open": False})
        assert status == 200
    for bundle, count in (("real-estate", 30), ("social-security-card", 6), ("newborn", 4),
                          ("enterprise-setup", 2)):
        for _ in range(count):
            take(live_server, token, bundle)
    for number in (7, 8):
        window = window_by_number(live_server, token, number)
        assert live_server.call("POST", f"/windows/{window['id']}/call-next", token)[0] == 200

    page = console(page_at, live_server)
    open_view(page, "advice")
    view = page.locator("#view-advice")
    expect(view).to_have_attribute("data-state", "ready", timeout=30000)

    estate = page.locator("#adv-bundles tbody tr", has_text="不动产登记")
    expect(estate.locator("td").nth(1)).to_have_text("28")
    current = float(page.locator("#adv-cur").inner_text())
    advised = float(page.locator("#adv-new").inner_text())
    assert advised < current
    changes = page.locator("#adv-changes li[data-number]")
    assert changes.count() >= 1
    expect(page.locator("#adv-prev")).to_contain_text("实际")
    estate_prev = page.locator("#adv-prev tbody tr", has_text="不动产登记")
    expect(estate_prev.locator("td").nth(3)).to_have_text("30 / 34")  # 30 + 0.8 × (35 − 30)
    page.wait_for_timeout(300)
    screenshot(page, "manage-advice")

    first = changes.first
    number = int(first.get_attribute("data-number"))
    first.locator("button").click()
    expect(first.locator("button")).to_have_text("已调整")
    expect(page.locator("#toasts")).to_contain_text(f"{number}号窗口已按建议调整")
    served = window_by_number(live_server, token, number)["bundles"]
    shown = first.locator(".a-to .a-chip")
    expect(shown).to_have_count(len(served))
    for chip, bundle in zip(shown.all(), sorted(served, key=lambda b: b["rank"]), strict=True):
        expect(chip.locator(".rk")).to_have_text(str(bundle["rank"]))
    status, audit = live_server.call("GET", "/halls/demo/audit", token)
    assert status == 200
    assert re.search(r"'action': 'advice\.generate'", str(audit))
    assert re.search(rf"'target': 'window:{number}'", str(audit))
