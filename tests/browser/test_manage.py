"""The manager's console (/manage/) in a real browser against a real server: the hall live follows
tickets without a reload, the allocation editor changes what a window serves (the API and the window's
own screen follow), closing and pausing windows, device tokens shown once and revoked, staff accounts,
and the audit log in Chinese.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import pytest

from ..conftest import DEMO_PASSWORD
from .conftest import screenshot

pytestmark = pytest.mark.browser

HALL_TZ = "Asia/Shanghai"  # the browser runs where the hall is: the console shows local times


def expect(target):
    """Playwright's expect, imported late: without Playwright the `browser` fixture skips (or fails in CI)."""
    from playwright.sync_api import expect as _expect

    return _expect(target)


def console(page_at, server, width: int = 1920, height: int = 1080, **options):
    """The manager's console, reached the way a manager does: /manage/ → the login form → back."""
    page = page_at(width, height, timezone_id=HALL_TZ, **options)
    page.goto(f"{server.url}/manage/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)manage(/|%2F)$"))
    page.fill("#username", "manager")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/manage/$"))
    page.wait_for_selector("body[data-ready='1']", timeout=10000)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online", timeout=5000)
    return page


def open_view(page, view: str) -> None:
    page.click(f".m-nav a[data-view='{view}']")
    expect(page.locator(f"#view-{view}")).to_be_visible()


def take(server, token: str, bundle: str) -> dict:
    status, ticket = server.call("POST", "/halls/demo/tickets", token, {"bundle": bundle})
    assert status == 201, ticket
    return ticket


def window_by_number(server, token: str, number: int) -> dict:
    status, data = server.call("GET", "/halls/demo/windows", token)
    assert status == 200, data
    return next(w for w in data["windows"] if w["number"] == number)


def backdate(server, numbers: dict[str, int]) -> None:
    """Move waiting tickets' taken_at back by some minutes, as if taken earlier this morning."""
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        for number, minutes in numbers.items():
            (taken,) = db.execute("SELECT taken_at FROM ticket WHERE number = ?", (number,)).fetchone()
            earlier = datetime.fromisoformat(taken) - timedelta(minutes=minutes)
            db.execute("UPDATE ticket SET taken_at = ? WHERE number = ?",
                       (earlier.strftime("%Y-%m-%d %H:%M:%S.%f"), number))
    db.close()


def test_hall_live_shows_every_window_and_follows_new_tickets(live_server, page_at) -> None:
    token = live_server.login("manager")
    _, bundles = live_server.call("GET", "/halls/demo/bundles", token)
    page = console(page_at, live_server)

    expect(page.locator("#windows .win")).to_have_count(24)
    expect(page.locator("#bundle-rows tr[data-bundle]")).to_have_count(len(bundles["bundles"]))
    expect(page.locator("#windows .win[data-window='7']")).to_contain_text("不动产登记")
    expect(page.locator("#t-open")).to_have_text("24")
    expect(page.locator("#t-waiting")).to_have_text("0")
    page.evaluate("window.__sameDocument = true")

    take(live_server, token, "newborn")
    expect(page.locator("#t-waiting")).to_have_text("1")
    expect(page.locator("#bundle-rows tr[data-bundle='newborn'] .waiting b")).to_have_text("1")
    expect(page.locator("#nav-waiting")).to_have_text("1")

    # a morning's hall for the screenshot: waits, calls at several windows, a pause and a closure
    for bundle in ["real-estate", "real-estate", "real-estate", "newborn", "education", "education",
                   "social-security-card", "retirement", "enterprise-setup", "enterprise-setup",
                   "restaurant", "water-power-gas", "disability", "real-estate", "credit-repair"]:
        take(live_server, token, bundle)
    for window in (1, 2, 7, 10, 13, 16):
        status, _ = live_server.call("POST", f"/windows/{window}/call-next", token)
        assert status == 200
    for window in (7, 13):
        live_server.call("POST", f"/windows/{window}/start", token)
    live_server.call("POST", "/windows/5/pause", token)
    backdate(live_server, {"P003": 72, "P004": 64, "B002": 38, "H001": 33})
    live_server.call("PUT", "/windows/6/open", token, {"open": False})

    expect(page.locator("#windows .win[data-window='6']")).to_have_attribute("data-state", "closed")
    expect(page.locator("#windows .win[data-window='5']")).to_have_attribute("data-state", "paused")
    expect(page.locator("#windows .win[data-window='7']")).to_have_attribute("data-state", "busy")
    expect(page.locator("#windows .win[data-window='7'] .w-ticket b")).to_have_text(re.compile(r"^P\d{3}$"))
    expect(page.locator("#tile-longest")).to_have_attribute("data-level", "2", timeout=8000)
    expect(page.locator("#bundle-rows tr[data-bundle='real-estate']")).to_have_class(re.compile("lv2"))
    expect(page.locator("#calls li")).to_have_count(6)
    expect(page.locator("#alerts")).to_contain_text("不动产登记")
    assert page.evaluate("window.__sameDocument") is True  # live, not reloaded
    page.wait_for_timeout(300)
    screenshot(page, "manager-live")


def test_allocation_editor_changes_a_window_and_its_screen_follows(live_server, page_at) -> None:
    token = live_server.login("manager")
    page = console(page_at, live_server)
    screen = page_at(1280, 720)
    screen.goto(f"{live_server.url}/display/window/3")
    screen.wait_for_selector("body[data-ready='1']", timeout=10000)
    expect(screen.locator("#bundles")).to_contain_text("教育入学")

    open_view(page, "alloc")
    expect(page.locator("#matrix tbody tr[data-window]")).to_have_count(24)
    page.select_option("#alloc-window", "3")
    expect(page.locator("#ed-title")).to_contain_text("3号窗口")
    expect(page.locator("#matrix tbody tr[data-window='3']")).to_have_class(re.compile(r"\bsel\b"))
    page.click("#alloc-none")
    expect(page.locator("#alloc-warn")).to_contain_text("不受理任何事项")
    row = page.locator("#alloc-list li[data-bundle='newborn']")
    row.locator("input[type='checkbox']").check()
    expect(row.locator("label[data-rank='1']")).to_have_class(re.compile(r"\bon\b"))
    expect(page.locator("#alloc-diff")).to_contain_text("移除")
    page.click("#alloc-save")

    expect(page.locator("#toasts")).to_contain_text("3号窗口分配已保存")
    expect(page.locator("#alloc-saved")).to_contain_text("新生儿出生")
    expect(page.locator("#alloc-save")).to_be_disabled()
    expect(page.locator("#matrix tbody tr[data-window='3'] .rk")).to_have_count(1)
    assert window_by_number(live_server, token, 3)["bundles"] == [
        {"code": "newborn", "name": "新生儿出生一件事", "rank": 1}]

    # the window's own screen above the counter follows at once, without a reload
    expect(screen.locator("#bundles")).to_contain_text("新生儿")
    expect(screen.locator("#bundles")).not_to_contain_text("教育入学")

    # a second bundle as 兼办: rank 2 through the segmented control
    row = page.locator("#alloc-list li[data-bundle='education']")
    row.locator("input[type='checkbox']").check()
    row.locator("label[data-rank='2']").click()
    page.click("#alloc-save")
    expect(page.locator("#alloc-saved")).to_contain_text("兼办")
    ranks = {b["code"]: b["rank"] for b in window_by_number(live_server, token, 3)["bundles"]}
    assert ranks == {"newborn": 1, "education": 2}
    expect(screen.locator("#bundles")).to_contain_text("教育入学")
    # the latest confirmation (an earlier toast may still be fading out on a loaded machine)
    expect(page.locator("#toasts .toast").last).to_contain_text("分配已保存")
    screenshot(page, "manager-allocation")


def test_closing_and_pausing_a_window_from_the_live_view(live_server, page_at) -> None:
    token = live_server.login("manager")
    page = console(page_at, live_server)
    card = page.locator("#windows .win[data-window='4']")
    expect(card).to_have_attribute("data-state", "idle")

    card.locator("button[data-act='close']").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#cf-text")).to_contain_text("不再叫号")
    page.click("#confirm-cancel")
    expect(card).to_have_attribute("data-state", "idle")
    assert window_by_number(live_server, token, 4)["open"] is True

    card.locator("button[data-act='close']").click()
    page.click("#confirm-ok")
    expect(card).to_have_attribute("data-state", "closed")
    expect(card.locator(".w-state")).to_have_text("关闭")
    expect(page.locator("#t-open")).to_have_text("23")
    assert window_by_number(live_server, token, 4)["open"] is False

    card.locator("button[data-act='open']").click()
    expect(card).to_have_attribute("data-state", "idle")
    assert window_by_number(live_server, token, 4)["open"] is True

    card.locator("button[data-act='pause']").click()
    expect(card).to_have_attribute("data-state", "paused")
    expect(card.locator(".w-state")).to_have_text("暂停")
    _, live = live_server.call("GET", "/halls/demo/live", token)
    assert next(w for w in live["windows"] if w["number"] == 4)["paused"] is True
    card.locator("button[data-act='resume']").click()
    expect(card).to_have_attribute("data-state", "idle")


def test_device_token_is_shown_once_then_revoked_and_all_is_in_the_audit_log(live_server, page_at) -> None:
    token = live_server.login("manager")
    status, _ = live_server.call("PUT", "/halls/demo/windows/9/bundles", token,
                                 {"bundles": [{"code": "real-estate", "rank": 1}]})
    assert status == 200
    # a morning's other manager actions, so that the log reads like a real one
    live_server.call("PUT", "/halls/demo/windows/17/bundles", token,
                     {"bundles": [{"code": "education", "rank": 1}, {"code": "newborn", "rank": 1},
                                  {"code": "social-security-card", "rank": 3}]})
    live_server.call("POST", "/windows/12/pause", token)
    live_server.call("POST", "/windows/12/resume", token)
    live_server.call("PUT", "/windows/24/open", token, {"open": False})
    status, created = live_server.call("POST", "/halls/demo/staff", token, {
        "username": "lijing", "name": "李静", "password": "welcome-2026", "role": "clerk", "window": 8})
    assert status == 201
    live_server.call("PATCH", f"/halls/demo/staff/{created['id']}", token, {"window": 9})
    page = console(page_at, live_server, permissions=["clipboard-read", "clipboard-write"])

    open_view(page, "devices")
    page.select_option("#dev-kind", "display")
    page.fill("#dev-name", "二楼大厅屏")
    page.click("#dev-issue")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("只显示这一次")
    device_token = page.input_value("#token-value")
    assert len(device_token) >= 24
    assert live_server.call("GET", "/auth/me", device_token)[0] == 200
    page.click("#token-copy")
    expect(page.locator("#tk-copied")).to_contain_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == device_token
    page.keyboard.press("Escape")  # the token dialog closes only by its button
    expect(dialog).to_be_visible()
    page.click("#token-done")
    expect(dialog).to_be_hidden()
    assert device_token not in page.content()

    row = page.locator("#dev-rows tr", has_text="二楼大厅屏")
    expect(row).to_contain_text("显示屏")
    expect(row).to_contain_text("有效")
    row.locator("button[data-act='revoke']").click()
    expect(page.locator("#cf-text")).to_contain_text("二楼大厅屏")
    page.click("#confirm-ok")
    expect(row).to_contain_text("已注销")
    expect(row.locator("button[data-act='revoke']")).to_have_count(0)
    assert live_server.call("GET", "/auth/me", device_token)[0] == 401
    _, devices = live_server.call("GET", "/halls/demo/devices", token)
    assert next(d for d in devices["devices"] if d["name"] == "二楼大厅屏")["revoked_at"]

    open_view(page, "audit")
    rows = page.locator("#audit-rows")
    expect(rows).to_contain_text("调整窗口分配")
    expect(rows).to_contain_text("签发设备令牌")
    expect(rows).to_contain_text("注销设备令牌")
    expect(rows.locator("tr").first).to_contain_text("注销设备令牌")  # newest first
    allocation = rows.locator("tr[data-action='window.allocation']", has_text="9号窗口")
    expect(allocation).to_contain_text("9号窗口")
    expect(allocation).to_contain_text("移除")
    expect(rows.locator("tr[data-action='device.issue']")).to_contain_text("二楼大厅屏")
    page.locator("#audit-filter button[data-filter='device']").click()
    expect(rows.locator("tr")).to_have_count(2)
    page.locator("#audit-filter button[data-filter='']").click()
    expect(rows.locator("tr[data-action='staff.update']")).to_contain_text("座席窗口")
    expect(page.locator("#toasts .toast")).to_have_count(0, timeout=8000)
    screenshot(page, "manager-audit")


def test_manager_creates_a_staff_member_then_deactivates_them(live_server, page_at) -> None:
    page = console(page_at, live_server)
    open_view(page, "staff")
    expect(page.locator("#staff-rows tr[data-username='clerk24']")).to_contain_text("24号")

    page.click("#staff-new")
    expect(page.locator("#staff-dialog")).to_be_visible()
    page.fill("#sd-username", "x")
    page.fill("#sd-name", "张敏")
    page.click("#sd-ok")
    expect(page.locator("#sd-error")).to_contain_text("用户名")

    page.fill("#sd-username", "zhangmin")
    page.select_option("#sd-role", "clerk")
    page.select_option("#sd-window", "5")
    page.fill("#sd-password", "welcome-2026")
    page.click("#sd-ok")
    expect(page.locator("#staff-dialog")).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("已创建工作人员 张敏")
    row = page.locator("#staff-rows tr[data-username='zhangmin']")
    expect(row).to_contain_text("张敏")
    expect(row).to_contain_text("窗口人员")
    expect(row).to_contain_text("5号")
    expect(row).to_contain_text("启用")
    status, who = live_server.call("POST", "/auth/login", None, {"username": "zhangmin", "password": "welcome-2026"})
    assert status == 200
    assert who["window"]["number"] == 5

    # the same username again: the server's refusal is shown in the dialog, in Chinese
    page.click("#staff-new")
    page.fill("#sd-username", "zhangmin")
    page.fill("#sd-name", "张敏")
    page.select_option("#sd-window", "5")
    page.click("#sd-ok")
    expect(page.locator("#sd-error")).to_contain_text("已存在")
    page.locator("#staff-dialog button[data-close]").first.click()

    row.locator("button[data-act='deactivate']").click()
    page.click("#confirm-ok")
    expect(row).to_contain_text("已停用")
    status, _ = live_server.call("POST", "/auth/login", None, {"username": "zhangmin", "password": "welcome-2026"})
    assert status == 401
