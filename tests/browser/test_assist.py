"""帮办代办 in real browsers against a real server: a citizen asks on the phone page (/help/demo), the
request appears live on the staff console (/assist/), staff claim it, note progress and close it, and
the citizen's phone page (/h/<token>) follows every step live."""

from __future__ import annotations

import re

import pytest

from ..conftest import DEMO_PASSWORD
from .conftest import screenshot

pytestmark = pytest.mark.browser


def expect(target):
    """Playwright's expect, imported late: without Playwright the `browser` fixture skips (or fails in CI)."""
    from playwright.sync_api import expect as _expect

    return _expect(target)


def file(server, token=None, **body):
    status, data = server.call("POST", "/halls/demo/assist-requests", token, body)
    assert status == 201, data
    return data


def test_a_request_is_claimed_progressed_and_closed_live(live_server, page_at) -> None:
    console = page_at(1440, 900)
    console.goto(f"{live_server.url}/assist/")
    expect(console).to_have_url(re.compile(r"/login\?next="))
    console.fill("#username", "assistant1")
    console.fill("#password", DEMO_PASSWORD)
    console.click("#login-submit")
    expect(console).to_have_url(re.compile(r"/assist/$"))
    expect(console.locator("#conn")).to_have_attribute("data-state", "online")
    expect(console.locator("#open-list")).to_contain_text("暂无待受理的请求")

    # a citizen asks on the phone page; the console shows it without a reload
    phone = page_at(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone.goto(f"{live_server.url}/help/demo")
    expect(phone.locator("#bundle option[value=retirement]")).to_be_attached()
    phone.locator("[data-place='24小时自助区']").click()
    phone.fill("#location", "24小时自助区 3号终端")
    phone.fill("#phone", "1381234567")
    phone.fill("#name", "王芳")
    phone.select_option("#bundle", "retirement")
    phone.check("input[name=reason][value=elderly]")
    phone.fill("#note", "不会操作自助机，想办退休")
    phone.click("#submit")
    expect(phone.locator("#error")).to_have_text("请填写11位手机号码")
    phone.fill("#phone", "13812345678")
    phone.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    phone.wait_for_function("window.scrollY === 0")
    screenshot(phone, "assist-ask")
    phone.click("#submit")
    expect(phone).to_have_url(re.compile(r"/h/[A-Za-z0-9_-]+$"))
    follow_token = phone.url.rsplit("/", 1)[1]
    expect(phone.locator("#status")).to_have_text("已提交，等待工作人员受理")
    expect(phone.locator("body")).not_to_contain_text("13812345678")

    item = console.locator("#open-list .a-item[data-id]").filter(has_text="24小时自助区 3号终端")
    expect(item).to_be_visible()
    expect(console.locator("#open-count")).to_have_text("1")
    clerk = live_server.login("clerk1")
    file(live_server, clerk, kind="proxy", bundle="real-estate", location="综合服务窗口 旁 等候区B排",
         phone="13900002222", reason="disabled", name="欧阳明")
    expect(console.locator("#open-count")).to_have_text("2")

    item.locator("[data-claim]").click()
    expect(console.locator("#d-status")).to_have_text("已受理")
    expect(console.locator("#detail-body")).to_contain_text("13812345678")  # staff may call back
    expect(phone.locator("#status")).to_have_text("已受理，工作人员正在赶来")
    expect(phone.locator("#helper")).to_contain_text("帮办员王静")

    console.fill("#progress-note", "已到3号终端，正在协助填写退休申请")
    console.click("#progress-save")
    expect(console.locator("#d-status")).to_have_text("办理中")
    expect(phone.locator("#steps")).to_contain_text("已到3号终端，正在协助填写退休申请")
    expect(phone.locator("#status")).to_have_text("正在办理")
    console.locator("#open-list .a-item").first.click()  # look at the other request, then back
    console.locator("#busy-list .a-item").first.click()
    expect(console.locator("#detail-body")).to_contain_text("不会操作自助机")
    console.evaluate("document.getElementById('toasts').replaceChildren()")  # a clear picture
    screenshot(console, "assist-console")
    phone.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    screenshot(phone, "assist-phone")

    console.click("#d-actions [data-act=done]")
    expect(console.locator("#d-status")).to_have_text("已办结")
    expect(console.locator("#closed-count")).to_have_text("1")
    expect(phone.locator("#status")).to_have_text("已办结")
    expect(phone.locator("#steps li")).to_have_count(4)
    status, data = live_server.call("GET", f"/assist/{follow_token}")
    assert status == 200 and data["status"] == "done"  # type: ignore[index]
