"""The phone booking page (/book/demo) in a real browser against a real server: bundle, day, slot,
name and ID number, confirm; the booking code and its QR; 一次告知; then 我的预约 and cancel."""

from __future__ import annotations

import re

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser
ADULT = "320102199003071239"


def expect(target):
    """Playwright's expect, imported late: without Playwright the `browser` fixture skips (or fails in CI)."""
    from playwright.sync_api import expect as _expect

    return _expect(target)


def test_book_on_the_phone_page(live_server, page_at) -> None:
    page = page_at(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(f"{live_server.url}/book/demo")
    page.locator(".bk-bundle[data-code='real-estate']").click()
    expect(page.locator(".bk-day").first).to_be_visible()
    page.locator(".bk-slot:not([disabled])").first.click()
    page.fill("#name", "李华")
    page.fill("#id-number", "320102199003071238")  # wrong check digit first
    page.click("#confirm")
    expect(page.locator("#error")).to_contain_text("校验位")
    page.fill("#id-number", ADULT)
    page.fill("#phone", "13800000000")
    page.click("#confirm")
    code = page.locator("#booking-code")
    expect(code).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{8}$"))
    expect(page.locator("#done .bk-qr")).to_have_js_property("complete", True)
    assert page.locator("#done .bk-qr").evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#done")).to_contain_text("李*")
    expect(page.locator("#done")).to_contain_text("待签到")
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    page.wait_for_function("window.scrollY === 0")
    screenshot(page, "booking")
    booking = code.inner_text()

    _, shown = live_server.call("GET", "/halls/demo/appointments/slots?bundle=real-estate")
    day = shown["date"]  # type: ignore[index]  # the page books on the first bookable day too
    status, data = live_server.call("GET", f"/halls/demo/appointments?date={day}", live_server.login("manager"))
    assert status == 200
    assert any(a["code"] == booking for a in data["appointments"])  # type: ignore[index]

    page.click("#done [data-act=notice]")
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#notice-body")).to_contain_text("需带材料")
    page.click("#notice-close")

    page.click("#tab-mine")
    page.fill("#lookup-code", booking.lower())
    page.fill("#lookup-id", ADULT)
    page.click("#pane-mine .bk-primary")
    expect(page.locator("#mine-code")).to_have_text(booking)
    page.once("dialog", lambda d: d.accept())
    page.click("#mine [data-act=cancel]")
    expect(page.locator("#mine")).to_contain_text("已取消")
