"""The web kiosk (/kiosk/) in a real browser against a real server: the device token taken from the
URL fragment and kept out of the address bar, a number taken in four touches, retries that keep one
Idempotency-Key and never make a second ticket, and the screen of a terminal that is not registered.
"""

from __future__ import annotations

import re

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def expect(target):
    """Playwright's expect, imported late: without Playwright the `browser` fixture skips (or fails in CI)."""
    from playwright.sync_api import expect as _expect

    return _expect(target)


def kiosk_token(server) -> str:
    status, device = server.call("POST", "/halls/demo/devices", server.login("manager"),
                                 {"kind": "kiosk", "name": "kiosk page test"})
    assert status == 201, device
    return device["token"]


def waiting(server, bundle: str) -> int:
    status, data = server.call("GET", "/halls/demo/bundles")
    assert status == 200
    return next(b["waiting"] for b in data["bundles"] if b["code"] == bundle)


def open_kiosk(page_at, server, token: str, width: int = 1080, height: int = 1920):
    page = page_at(width, height)
    page.goto(f"{server.url}/kiosk/#token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=10000)
    return page


def choose(page, bundle: str) -> None:
    page.click("#touch")
    page.locator(f".k-card[data-bundle='{bundle}']").click()
    expect(page.locator("#s-confirm")).to_be_visible()


def test_take_a_number_in_portrait(live_server, page_at) -> None:
    token = kiosk_token(live_server)
    status, before = live_server.call("POST", "/halls/demo/tickets", token, {"bundle": "newborn"})
    assert status == 201, before
    page = open_kiosk(page_at, live_server, token)
    assert page.url == f"{live_server.url}/kiosk/"  # the token left the address bar…
    assert page.evaluate("localStorage.getItem('govhall.kiosk.token')") == token  # …for the terminal's storage
    expect(page.locator("#touch")).to_contain_text("请触摸屏幕取号")

    page.click("#touch")
    card = page.locator(".k-card[data-bundle='newborn']")
    expect(card).to_contain_text("新生儿出生")
    expect(card).to_contain_text("等候1人")
    box = card.bounding_box()
    assert box is not None and box["height"] >= 120
    screenshot(page, "kiosk-home")

    card.click()
    expect(page.locator("#c-choice")).to_contain_text("新生儿出生")
    expect(page.locator("#c-materials")).to_contain_text("请准备以下材料")
    take = page.locator("#c-take")
    assert (take.bounding_box() or {"height": 0})["height"] >= 120
    take.click()

    expect(page.locator("#s-ticket")).to_be_visible()
    number = page.locator("#t-number")
    expect(number).to_have_text(re.compile(r"^A\d{3}$"))
    assert number.inner_text() == "A002"
    expect(page.locator("#t-ahead")).to_have_text("1")
    expect(page.locator("#t-bundle")).to_contain_text("新生儿出生一件事")
    expect(page.locator("#s-ticket")).to_contain_text("请留意大厅叫号屏和语音播报")
    page.wait_for_function("document.getElementById('t-qr').complete && document.getElementById('t-qr').naturalWidth > 0")
    expect(page.locator("#t-qr-missing")).to_be_hidden()
    expect(page.locator("#t-done")).to_contain_text("秒后返回")
    assert page.locator("text=A002").count() == 1  # the ticket is shown once
    assert waiting(live_server, "newborn") == 2  # and issued once
    screenshot(page, "kiosk-ticket")

    page.click("#t-done")
    expect(page.locator("#touch")).to_be_visible()
    expect(page.locator("#t-number")).to_be_hidden()


def test_network_failures_retry_with_one_key_and_make_one_ticket(live_server, page_at) -> None:
    page = open_kiosk(page_at, live_server, kiosk_token(live_server), 1920, 1080)
    keys: list[str] = []
    cut = {"on": True}

    def tickets(route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if cut["on"]:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/halls/demo/tickets", tickets)
    choose(page, "education")
    page.click("#c-take")
    expect(page.locator("#c-status")).to_contain_text("正在重试", timeout=3000)
    expect(page.locator("#c-status")).to_have_text("网络连接中断，请稍后再试或联系工作人员", timeout=10000)
    expect(page.locator("#net")).to_be_visible()
    expect(page.locator("#c-take")).to_be_enabled()
    assert len(keys) == 4  # the press and its three retries
    assert waiting(live_server, "education") == 0

    page.click("#c-back")  # the same citizen picks the same bundle again: still the same press
    page.locator(".k-card[data-bundle='education']").click()
    cut["on"] = False
    page.click("#c-take")
    expect(page.locator("#t-number")).to_have_text("B001")
    expect(page.locator("#net")).to_be_hidden()
    assert len(keys) == 5 and len(set(keys)) == 1 and re.fullmatch(r"[0-9a-f-]{36}", keys[0])
    assert waiting(live_server, "education") == 1


def test_a_terminal_without_a_token_says_so(live_server, page_at) -> None:
    page = page_at(1080, 1920)
    page.goto(f"{live_server.url}/kiosk/")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#s-unregistered")).to_be_visible()
    expect(page.locator("#unreg-title")).to_have_text("本终端未登记，请联系工作人员")
    expect(page.locator("#touch")).to_be_hidden()

    page.goto(f"{live_server.url}/kiosk/#token=not-a-device-token")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#unreg-title")).to_have_text("本终端登记已失效，请联系工作人员")
