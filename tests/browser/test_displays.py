"""The hall display, a window's display, the public waits page and the phone tracking page in a real
browser against a real server: calls show within a second and are spoken one at a time, screens come
back by themselves after a server restart, allocation changes re-render without a reload.
"""

from __future__ import annotations

import time

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def expect(target):
    """Playwright's expect, imported late: without Playwright the `browser` fixture skips (or fails in CI)."""
    from playwright.sync_api import expect as _expect

    return _expect(target)

ANNOUNCED = """text => {
    const a = window.govhallAnnouncer;
    return Boolean(a) && (a.queue.includes(text) || a.current === text || a.played.includes(text));
}"""


def take(server, token: str, bundle: str = "newborn", priority: str | None = None) -> dict:
    body = {"bundle": bundle} if priority is None else {"bundle": bundle, "priority": priority}
    status, ticket = server.call("POST", "/halls/demo/tickets", token, body)
    assert status == 201, ticket
    return ticket


def call_next(server, clerk_token: str, window: int) -> dict:
    status, answer = server.call("POST", f"/windows/{window}/call-next", clerk_token)
    assert status == 200, answer
    return answer["ticket"]


def open_page(page_at, server, path: str, width: int, height: int):
    page = page_at(width, height)
    page.goto(f"{server.url}{path}")
    page.wait_for_selector("body[data-ready='1']", timeout=10000)
    return page


def busy_hall(server) -> dict[str, str]:
    """A realistic morning: the general windows closed, specialist windows open, people waiting."""
    manager = server.login("manager")
    for window in (1, 2, 3, 4, 5, 6, 21, 22, 23, 24):
        status, answer = server.call("PUT", f"/windows/{window}/open", manager, {"open": False})
        assert status == 200, answer
    plan = {"real-estate": 8, "newborn": 6, "retirement": 5, "social-security-card": 4, "education": 3,
            "enterprise-setup": 3, "water-power-gas": 2, "restaurant": 2, "disability": 1}
    for bundle, count in plan.items():
        for _ in range(count):
            take(server, manager, bundle)
    return {"manager": manager}


def settle(page) -> None:
    """End the flashes and stop the marquees, so a screenshot shows the steady screen."""
    page.evaluate("""() => document.getAnimations().forEach(a => {
        try { a.finish(); } catch (e) { a.cancel(); }
    })""")


def test_call_shows_within_a_second_and_is_announced(live_server, page_at) -> None:
    page = open_page(page_at, live_server, "/display/hall/demo", 1920, 1080)
    manager, clerk = live_server.login("manager"), live_server.login("clerk1")
    assert take(live_server, manager)["number"] == "A001"

    started = time.monotonic()
    assert call_next(live_server, clerk, 1)["number"] == "A001"
    left_ms = max(50, 1000 - (time.monotonic() - started) * 1000)
    expect(page.locator("#call-number")).to_have_text("A001", timeout=left_ms)
    expect(page.locator("#call-window")).to_have_text("1号窗口")
    page.wait_for_function(ANNOUNCED, arg="请A001号到1号窗口办理", timeout=3000)
    expect(page.locator(".stale-mark")).to_be_hidden()


def test_two_quick_calls_are_spoken_one_after_the_other(live_server, page_at) -> None:
    page = open_page(page_at, live_server, "/display/hall/demo", 1920, 1080)
    manager = live_server.login("manager")
    clerks = [live_server.login("clerk1"), live_server.login("clerk2")]
    take(live_server, manager)
    take(live_server, manager)
    first = call_next(live_server, clerks[0], 1)["number"]
    second = call_next(live_server, clerks[1], 2)["number"]
    texts = [f"请{first}号到1号窗口办理", f"请{second}号到2号窗口办理"]

    page.wait_for_function("n => window.govhallAnnouncer.played.length >= n", arg=2, timeout=18000)
    state = page.evaluate("window.govhallAnnouncer")
    assert state["played"] == texts
    assert state["queue"] == []
    assert not state["speaking"]
    one, two = state["log"]
    assert one["end"] <= two["start"], "two announcements overlapped"
    assert {one["mode"], two["mode"]} <= {"voice", "chime", "text"}


def test_voice_missing_falls_back_to_chime_and_text(live_server, page_at) -> None:
    page = page_at(1920, 1080)
    page.route("**/display/audio/call.wav*", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "voice_unavailable", "message": "no voice"}}'))
    page.goto(f"{live_server.url}/display/hall/demo")
    page.wait_for_selector("body[data-ready='1']")
    take(live_server, live_server.login("manager"))
    call_next(live_server, live_server.login("clerk1"), 1)

    expect(page.locator("#speaking")).to_have_text("请A001号到1号窗口办理", timeout=2000)
    page.wait_for_function("window.govhallAnnouncer.played.length === 1", timeout=10000)
    assert page.evaluate("window.govhallAnnouncer.log[0].mode") in ("chime", "text")


def test_autoplay_refused_shows_text_and_the_enable_button(live_server, page_at) -> None:
    page = page_at(1920, 1080)
    page.add_init_script("""HTMLMediaElement.prototype.play = function () {
        return Promise.reject(new DOMException("needs a gesture", "NotAllowedError"));
    };""")
    page.goto(f"{live_server.url}/display/hall/demo")
    page.wait_for_selector("body[data-ready='1']")
    take(live_server, live_server.login("manager"))
    call_next(live_server, live_server.login("clerk1"), 1)

    expect(page.locator("#voice-unlock")).to_be_visible(timeout=2000)
    expect(page.locator("#voice-unlock")).to_contain_text("点击启用语音播报")
    expect(page.locator("#speaking")).to_have_text("请A001号到1号窗口办理")
    page.wait_for_function("window.govhallAnnouncer.played.length === 1", timeout=10000)


def test_hall_display_survives_a_server_restart(live_server, page_at) -> None:
    page = open_page(page_at, live_server, "/display/hall/demo", 1920, 1080)
    stale = page.locator(".stale-mark")
    expect(stale).to_be_hidden()

    live_server.stop()
    expect(stale).to_be_visible(timeout=15000)
    expect(stale).to_contain_text("连接中断")
    live_server.start()
    expect(stale).to_be_hidden(timeout=15000)  # nobody touched the page

    take(live_server, live_server.login("manager"))
    call_next(live_server, live_server.login("clerk1"), 1)
    expect(page.locator("#call-number")).to_have_text("A001", timeout=2000)


def test_window_display_follows_calls_queue_and_allocation(live_server, page_at) -> None:
    manager, clerk = live_server.login("manager"), live_server.login("clerk1")
    for _ in range(3):
        take(live_server, manager)
    page = open_page(page_at, live_server, "/display/window/1", 1280, 720)
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#win-number")).to_have_text("1号窗口")

    call_next(live_server, clerk, 1)
    expect(page.locator("#current")).to_have_text("A001", timeout=2000)
    expect(page.locator("#next li")).to_have_text(["A002", "A003"])

    status, answer = live_server.call("PUT", "/halls/demo/windows/1/bundles", manager,
                                      {"bundles": [{"code": "retirement", "rank": 1},
                                                   {"code": "newborn", "rank": 2}]})
    assert status == 200, answer
    served = page.locator("#bundles .b")
    expect(served).to_have_text(["退休一件事", "新生儿出生一件事"], timeout=3000)
    assert page.evaluate("window.notReloaded") is True

    # a new ticket of the primary bundle goes to the front of this window's line (refreshed ≤ 1 per 2 s)
    take(live_server, manager, "retirement")
    expect(page.locator("#next li").first).to_have_text("E001", timeout=4000)

    live_server.call("POST", "/windows/1/pause", clerk)
    expect(page.locator("#cover-title")).to_have_text("暂停服务", timeout=2000)
    live_server.call("POST", "/windows/1/resume", clerk)
    expect(page.locator("#cover-title")).to_have_text("", timeout=2000)
    settle(page)
    screenshot(page, "window-display")

    status, _ = live_server.call("PUT", "/windows/1/open", manager, {"open": False})
    assert status == 200
    expect(page.locator("#cover-title")).to_have_text("窗口关闭", timeout=2000)


def test_public_waits_change_when_a_ticket_is_taken(live_server, page_at) -> None:
    page = open_page(page_at, live_server, "/w/demo", 390, 844)
    count = page.locator("li[data-bundle='newborn'] .waiting")
    expect(count).to_have_text("0")
    expect(page.locator("#hours")).to_have_text("09:00–17:00")

    take(live_server, live_server.login("manager"))
    expect(count).to_have_text("1", timeout=2000)
    expect(page.locator("#fact-waiting")).to_have_text("1")

    busy_hall(live_server)
    expect(page.locator("li[data-bundle='real-estate'] .waiting")).to_have_text("8", timeout=3000)
    expect(page.locator("li[data-bundle='credit-repair'] .eta")).to_have_text("暂无开放窗口")
    settle(page)
    screenshot(page, "public-waits")


def test_phone_tracking_shows_position_then_the_call(live_server, page_at) -> None:
    manager, clerk = live_server.login("manager"), live_server.login("clerk1")
    take(live_server, manager)
    take(live_server, manager)
    mine = take(live_server, manager)
    page = open_page(page_at, live_server, f"/t/{mine['track_token']}", 390, 844)
    expect(page.locator("#number")).to_have_text(mine["number"])
    expect(page.locator("#status")).to_have_text("等候中")
    expect(page.locator("#ahead")).to_have_text("2")
    screenshot(page, "phone-tracking")

    call_next(live_server, clerk, 1)
    expect(page.locator("#ahead")).to_have_text("1", timeout=5000)  # refreshed on queue_updated
    call_next(live_server, clerk, 1)
    call_next(live_server, clerk, 1)
    banner = page.locator("#banner")
    expect(banner).to_be_visible(timeout=2000)
    expect(banner).to_contain_text("请到 1号窗口 办理")
    expect(page.locator("#status")).to_have_text("请到1号窗口办理", timeout=5000)
    settle(page)
    screenshot(page, "phone-tracking-called")


def test_unknown_ticket_gets_a_friendly_page(live_server, page_at) -> None:
    page = open_page(page_at, live_server, "/t/no-such-ticket", 390, 844)
    expect(page.locator(".unknown h2")).to_have_text("没有找到这张号票")


def test_hall_display_screenshot(live_server, page_at) -> None:
    manager = busy_hall(live_server)["manager"]
    for window in (7, 13, 16, 14, 8):
        call_next(live_server, live_server.login(f"clerk{window}"), window)
    take(live_server, manager, "retirement", priority="disabled")
    page = open_page(page_at, live_server, "/display/hall/demo", 1920, 1080)

    last = live_server.login("clerk18")  # the disability window calls a 绿色通道 ticket, live
    ticket = call_next(live_server, last, 18)
    assert ticket["priority"] == "disabled"
    expect(page.locator("#call-number")).to_have_text(ticket["number"], timeout=1000)
    expect(page.locator(".now-tags .badge-priority")).to_have_text("残疾人优先")
    expect(page.locator("#recent li")).to_have_count(5)
    settle(page)
    screenshot(page, "hall-display")
