"""The login page and the clerk's counter console in a real browser against a real server: the CSRF
token on the form, the live waiting line, call / recall (keyboard) / start / finish, the material
checklist, transfer through the dialog, pause and resume, no-show and requeue, the empty-queue toast.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from ..conftest import DEMO_PASSWORD
from .conftest import screenshot

pytestmark = pytest.mark.browser


def expect(target):
    """Playwright's expect, imported late: without Playwright the `browser` fixture skips (or fails in CI)."""
    from playwright.sync_api import expect as _expect

    return _expect(target)


def kiosk_token(server) -> str:
    status, device = server.call("POST", "/halls/demo/devices", server.login("manager"),
                                 {"kind": "kiosk", "name": "counter test kiosk"})
    assert status == 201, device
    return device["token"]


def take(server, token: str, bundle: str = "newborn", priority: str | None = None) -> dict:
    body = {"bundle": bundle} if priority is None else {"bundle": bundle, "priority": priority}
    status, ticket = server.call("POST", "/halls/demo/tickets", token, body)
    assert status == 201, ticket
    return ticket


def console(page_at, server, username: str = "clerk1"):
    """The counter console, reached the way a clerk does: /counter/ → the login form → back."""
    page = page_at(1366, 768)
    page.goto(f"{server.url}/counter/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)counter(/|%2F)$"))
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/counter/$"))
    page.wait_for_selector("body[data-ready='1']", timeout=10000)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online", timeout=5000)
    return page


def test_login_form_refuses_a_post_without_its_csrf_token(live_server) -> None:
    with urllib.request.urlopen(f"{live_server.url}/login", timeout=10) as r:
        assert 'name="csrf_token"' in r.read().decode()
    data = urllib.parse.urlencode({"username": "clerk1", "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(f"{live_server.url}/login", data=data, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 400


def test_login_shows_errors_in_chinese_then_opens_the_console(live_server, page_at) -> None:
    page = page_at(1366, 768)
    page.goto(f"{live_server.url}/counter/")
    expect(page.locator("h2")).to_have_text("工作人员登录")
    screenshot(page, "login")

    page.fill("#username", "clerk1")
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
    expect(page.locator("#username")).to_have_value("clerk1")

    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/counter/$"))
    expect(page.locator("#win-number")).to_have_text("1号窗口")
    expect(page.locator("#win-name")).to_have_text("综合受理1号")

    page.click("#logout")  # a POST carrying the form's CSRF token
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{live_server.url}/counter/")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_waiting_ticket_is_called_checked_recalled_started_and_finished(live_server, page_at) -> None:
    kiosk = kiosk_token(live_server)
    page = console(page_at, live_server)
    expect(page.locator("#btn-call")).to_be_enabled()
    expect(page.locator("#btn-recall")).to_be_disabled()

    first = take(live_server, kiosk, "real-estate")
    expect(page.locator(f"#queue li[data-number='{first['number']}']")).to_be_visible(timeout=5000)

    page.click("#btn-call")
    expect(page.locator("#t-number")).to_have_text(first["number"])
    expect(page.locator("#t-bundle")).to_have_text("不动产登记一件事（二手房转移登记+水电气网过户）")
    expect(page.locator("#t-status")).to_have_text("已叫号 · 等候到窗")
    expect(page.locator("#queue li[data-number]")).to_have_count(0)
    expect(page.locator("#btn-call")).to_be_disabled()  # the called citizen is dealt with first
    checklist = page.locator("#notice-body")
    expect(checklist.locator("h3")).to_have_text("不动产登记一件事（二手房转移登记+水电气网过户）")
    expect(checklist.locator("tr[data-code='property-certificate']")).to_contain_text("不动产权证书")
    expect(checklist.locator("tr[data-code='parties-id-cards']")).to_contain_text("免提交")
    expect(checklist.locator("tr[data-code='utility-accounts']")).to_contain_text("可容缺")
    expect(checklist.locator("tr[data-code='family-housing-commitment']")).to_contain_text("可告知承诺")
    expect(page.locator("#n-progress")).to_contain_text("已收 0/4")

    page.keyboard.press("F2")
    expect(page.locator("#t-recall")).to_have_text("重呼 1/3")
    page.keyboard.press("F2")
    expect(page.locator("#t-recall")).to_have_text("重呼 2/3")

    page.click("#btn-start")
    expect(page.locator("#t-status")).to_have_text("办理中")
    expect(page.locator("#btn-recall")).to_be_disabled()
    checklist.locator("tr[data-code='property-certificate']").click()
    checklist.locator("input[data-material='authorisation']").check()
    expect(checklist.locator("input[data-material='property-certificate']")).to_be_checked()
    expect(page.locator("#n-progress")).to_contain_text("已收 2/4 · 可容缺受理")

    # a realistic line behind the citizen for the picture
    for bundle in ("newborn", "retirement", "real-estate", "education"):
        take(live_server, kiosk, bundle)
    take(live_server, live_server.login("manager"), "social-security-card", priority="disabled")
    expect(page.locator("#queue li[data-number]")).to_have_count(5, timeout=5000)
    expect(page.locator("#queue li[data-number]").first).to_contain_text("优先")
    expect(page.locator(".toast")).to_have_count(0, timeout=5000)
    page.locator("#notice-body").evaluate("el => { el.scrollTop = 0; }")
    screenshot(page, "counter-console")

    page.click("#btn-finish")
    expect(page.locator(".toast.ok").last).to_contain_text(f"{first['number']} 已办结")
    expect(page.locator("#t-number")).to_have_text("等待叫号")
    expect(page.locator("#btn-call")).to_be_enabled()
    status, screen = live_server.call("GET", "/windows/1/screen")
    assert status == 200 and screen["window"]["current"] is None


def test_transfer_to_another_window_through_the_dialog(live_server, page_at) -> None:
    ticket = take(live_server, kiosk_token(live_server), "retirement")
    page = console(page_at, live_server)
    page.keyboard.press("F1")
    expect(page.locator("#t-number")).to_have_text(ticket["number"])

    page.click("#btn-transfer")
    dialog = page.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#tr-number")).to_have_text(ticket["number"])
    expect(dialog.locator("#tr-bundles input[value='retirement']")).to_be_disabled()
    dialog.locator("#tab-window").click()
    expect(dialog.locator("#tr-windows [data-window='1']")).to_be_disabled()  # not to itself
    dialog.locator("#tr-window").fill("2")
    page.keyboard.press("F3")  # typing in the dialog: the no-show shortcut must not fire
    expect(page.locator("#t-number")).to_have_text(ticket["number"])
    expect(dialog.locator("#tr-windows [data-window='2']")).to_have_class(re.compile("selected"))
    dialog.locator("#tr-ok").click()

    expect(dialog).to_be_hidden()
    expect(page.locator(".toast.ok").last).to_contain_text(f"{ticket['number']} 已转至 2号窗口")
    expect(page.locator("#t-number")).to_have_text("等待叫号")
    status, screen = live_server.call("GET", "/windows/2/screen?count=5")
    assert status == 200
    assert screen["next"][0] == {"number": ticket["number"], "bundle": "retirement", "priority": "none",
                                 "transferred": True}


def test_pause_then_resume(live_server, page_at) -> None:
    page = console(page_at, live_server)
    page.click("#btn-pause")
    expect(page.locator("#t-status")).to_have_text("已暂停")
    expect(page.locator("#pause-label")).to_have_text("恢复")
    expect(page.locator("#btn-call")).to_be_disabled()
    expect(page.locator("#t-banner")).to_contain_text("窗口已暂停叫号")
    assert live_server.call("GET", "/windows/1/screen")[1]["window"]["paused"] is True

    page.click("#btn-pause")
    expect(page.locator("#t-status")).to_have_text("空闲")
    expect(page.locator("#pause-label")).to_have_text("暂停")
    expect(page.locator("#btn-call")).to_be_enabled()
    assert live_server.call("GET", "/windows/1/screen")[1]["window"]["paused"] is False


def test_no_show_goes_to_the_list_and_can_be_requeued(live_server, page_at) -> None:
    ticket = take(live_server, kiosk_token(live_server), "education")
    page = console(page_at, live_server)
    page.keyboard.press("F1")
    expect(page.locator("#t-number")).to_have_text(ticket["number"])
    page.keyboard.press("F3")
    expect(page.locator("#noshows li")).to_contain_text(ticket["number"])
    expect(page.locator("#ns-count")).to_have_text("1")

    page.click(f"#noshows [data-requeue='{ticket['id']}']")
    expect(page.locator(".toast.ok").last).to_contain_text(f"{ticket['number']} 已重新排队")
    expect(page.locator("#noshows li")).to_contain_text("已重排")
    expect(page.locator(f"#queue li[data-number='{ticket['number']}']")).to_be_visible(timeout=5000)


def test_call_with_an_empty_queue_shows_the_servers_message(live_server, page_at) -> None:
    page = console(page_at, live_server)
    expect(page.locator("#q-count")).to_have_text("0 人")
    page.click("#btn-call")
    expect(page.locator(".toast.error")).to_have_text("1号窗口暂无等候")
    expect(page.locator("#btn-call")).to_be_enabled()


def test_a_manager_without_a_seat_picks_the_window(live_server, page_at) -> None:
    ticket = take(live_server, kiosk_token(live_server), "real-estate")
    page = page_at(1366, 768)
    page.goto(f"{live_server.url}/counter/")
    page.fill("#username", "manager")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    picker = page.locator("#window-dialog")
    expect(picker).to_be_visible()
    picker.locator("[data-number='7']").click()

    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#win-number")).to_have_text("7号窗口")
    expect(page.locator("#switch-window")).to_be_visible()
    page.keyboard.press("F1")
    expect(page.locator("#t-number")).to_have_text(ticket["number"])
