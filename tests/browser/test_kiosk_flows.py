"""The kiosk agent's touch UI in a real browser, with simulated devices against a real server:
identify by ID card or 苏服码, take a (printed) number with elderly priority, read the one-time
notice, fill the merged form on the on-screen pad, query progress, rate (差评 needs a reason), and
the faults and the privacy rules: paper out, a reader down, the server down, the idle wipe.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from werkzeug.serving import make_server

from kiosk.agent import Agent, AgentConfig, create_agent_app
from kiosk.devices import open_devices
from queue_server import sfm

from .conftest import screenshot

pytestmark = pytest.mark.browser

# values the on-screen pad types for each field type (valid for the server's checks)
SAMPLES = {"phone": "13800138000", "number": "100", "bank_card": "6222020000000000000",
           "id_number": "11010519491231002X", "date": "20260101", "credit_code": "91320100MA1XXXXXX0",
           "text": "CESHI", "address": "NANJING"}


def expect(target):
    from playwright.sync_api import expect as _expect

    return _expect(target)


@contextmanager
def running_agent(live_server, tmp_path, idle_seconds: int = 90) -> Iterator[tuple[Agent, str]]:
    """A kiosk agent with simulated devices on a real port: (agent, base URL)."""
    _, device = live_server.call("POST", "/halls/demo/devices", live_server.login("manager"),
                                 {"kind": "kiosk", "name": "flows"})
    agent = Agent(AgentConfig(server=live_server.url, token=device["token"], instance=tmp_path / "agent",
                              idle_seconds=idle_seconds), open_devices("sim", "sim", "sim"))
    agent.start()
    server = make_server("127.0.0.1", 0, create_agent_app(agent), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield agent, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        agent.stop()


def open_page(page_at, base: str, width: int = 1080, height: int = 1920):
    page = page_at(width, height)
    page.goto(f"{base}/kiosk/")
    page.wait_for_selector("body[data-ready='1'][data-events='1']", timeout=15000)
    expect(page.locator("#s-ident")).to_be_visible()
    return page


def type_on_pad(page, text: str) -> None:
    expect(page.locator("#pad")).to_be_visible()
    for ch in text:
        page.click(f"#pad-keys [data-k='{ch}']")
    page.click("#pad-ok")
    expect(page.locator("#pad")).to_be_hidden()


def sfm_code(live_server, tmp_path, id_number: str, name: str) -> str:
    key = tmp_path / "issuer.pem"
    if not key.exists():
        files = sfm.keygen(key)
        sfm.trust(files.private, live_server.instance / "sfm")
    return sfm.Issuer.load(key).issue(id_number, name, datetime.now(UTC))


def test_id_card_elderly_priority_and_printed_ticket(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path) as (agent, base):
        page = open_page(page_at, base)
        expect(page.locator("#way-idcard")).to_contain_text("刷身份证")
        screenshot(page, "kiosk-identify")

        page.request.post(f"{base}/agent/sim/card", data={"who": "elderly"})
        expect(page.locator("#who")).to_contain_text("王*国", timeout=10000)
        expect(page.locator("#who")).to_contain_text("老年人优先")
        expect(page.locator("#hello")).to_contain_text("王*国，您好")
        expect(page.locator(".k-tile[data-act='booking']")).to_be_disabled()
        expect(page.locator(".k-tile[data-act='booking']")).to_contain_text("即将开放")
        assert "11010519491231002X" not in page.content()
        screenshot(page, "kiosk-menu")

        page.click(".k-tile[data-act='ticket']")
        page.locator(".k-card[data-bundle='newborn']").click()
        expect(page.locator("#c-choice")).to_contain_text("老年人优先")
        page.click("#c-take")
        expect(page.locator("#t-number")).to_have_text(re.compile(r"^A\d{3}$"))
        expect(page.locator("#t-bundle")).to_contain_text("老年人优先")
        expect(page.locator("#t-print")).to_contain_text("号票已打印")
        assert len(agent.devices.printer.output) > 1000
        page.wait_for_function("document.getElementById('t-qr').naturalWidth > 0")
        assert "/agent/qr.png?data=" in (page.get_attribute("#t-qr", "src") or "")

        page.click("#t-done")  # the transaction is over: the person's data leaves the screen
        expect(page.locator("#s-ident")).to_be_visible()
        expect(page.locator("#who")).to_be_hidden()
        assert "王*国" not in page.content()

        # paper out: the ticket is valid and stays on screen with its QR to photograph
        agent.devices.printer.condition = "paper_out"
        page.click("#anon")
        page.click(".k-tile[data-act='ticket']")
        page.locator(".k-card[data-bundle='education']").click()
        page.click("#c-take")
        expect(page.locator("#t-print")).to_contain_text("号票已生效", timeout=10000)
        expect(page.locator("#t-number")).to_have_text(re.compile(r"^B\d{3}$"))
        page.wait_for_function("document.getElementById('t-qr').naturalWidth > 0")
        expect(page.locator("#t-done")).to_contain_text(re.compile(r"[3-6]\d秒后返回"))
        screenshot(page, "kiosk-paper-out")


def test_sfm_notice_form_rating_and_progress(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path) as (_agent, base):
        page = open_page(page_at, base)
        code = sfm_code(live_server, tmp_path, "320102199003071239", "张三")
        page.request.post(f"{base}/agent/sim/scan", data={"text": code})
        expect(page.locator("#who")).to_contain_text("张*", timeout=10000)
        expect(page.locator("#hello")).to_contain_text("苏服码")

        page.click(".k-tile[data-act='notice']")
        page.locator(".k-card[data-bundle='listing-compliance']").click()
        body = page.locator("#n-body")
        expect(body).to_contain_text("申请条件")
        expect(body).to_contain_text("所需材料")
        expect(body.locator(".m-exempt").first).to_have_text("免提交")
        expect(body).to_contain_text("办理时限")
        expect(body).to_contain_text("收费")
        screenshot(page, "kiosk-notice")

        page.click("#n-form")
        expect(page.locator("#f-fill")).to_contain_text(re.compile(r"已自动填写 2/12 项（17%）"))
        expect(page.locator(".f-auto").first).to_contain_text("张*")
        for row in page.locator("#f-body .f-row[data-type]").all():
            if "必填" not in row.inner_text():
                continue
            kind = row.get_attribute("data-type")
            if kind == "select":
                row.locator(".f-opt-btn").first.click()
            else:
                row.locator(".f-edit").click()
                type_on_pad(page, SAMPLES[kind])
        page.locator("#f-body").evaluate("el => { el.scrollTop = 0; }")
        screenshot(page, "kiosk-form")
        page.click("#f-submit")
        number = page.locator("#r-number")
        expect(number).to_have_text(re.compile(r"^SQ\d{8}-\d{4}$"), timeout=10000)
        app_number = number.inner_text()

        page.click("#r-rate")  # 好差评 right after the transaction (自助终端自动跳转评价)
        page.click(".k-level[data-level='2']")
        expect(page.locator("#rt-reasons")).to_contain_text("至少一项")
        expect(page.locator("#rt-send")).to_be_disabled()  # 差评 needs a reason
        page.click("#rt-reasons [data-reason='long_wait']")
        expect(page.locator("#rt-send")).to_be_enabled()
        screenshot(page, "kiosk-rating")
        page.click("#rt-send")
        expect(page.locator("#ident-msg")).to_contain_text("感谢您的评价")
        expect(page.locator("#who")).to_be_hidden()
        status, followups = live_server.call("GET", "/halls/demo/followups", live_server.login("manager"))
        assert status == 200 and len(followups["followups"]) == 1

        # progress: the same person again (a fresh code), the number typed on the pad
        page.request.post(f"{base}/agent/sim/scan",
                          data={"text": sfm_code(live_server, tmp_path, "320102199003071239", "张三")})
        expect(page.locator("#who")).to_contain_text("张*", timeout=10000)
        page.click(".k-tile[data-act='progress']")
        page.click("#p-number")
        for ch in app_number.removeprefix("SQ")[:8]:
            page.click(f"#pad-keys [data-k='{ch}']")
        screenshot(page, "kiosk-pad")
        type_on_pad(page, app_number.removeprefix("SQ")[8:])
        expect(page.locator("#p-number")).to_have_text(app_number)
        page.click("#p-go")
        expect(page.locator("#p-result")).to_contain_text("已受理")
        expect(page.locator("#p-result")).to_contain_text("企业上市合法合规信息核查")


def test_faults_elder_mode_and_landscape(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path) as (agent, base):
        page = open_page(page_at, base)
        voices: list[str] = []
        page.on("request", lambda r: voices.append(r.url) if "/agent/voice.wav" in r.url else None)

        # a reader down: that way is greyed with a note, the others keep working
        agent.hub.publish({"type": "device", "device": "idcard", "ok": False,
                           "message": "身份证读卡器暂不可用，请扫码或联系工作人员"})
        expect(page.locator("#way-idcard")).to_have_class(re.compile("down"))
        expect(page.locator("#way-idcard-down")).to_contain_text("读卡器暂不可用")
        expect(page.locator("#way-sfm")).not_to_have_class(re.compile("down"))
        agent.hub.publish({"type": "device", "device": "idcard", "ok": True, "message": ""})
        expect(page.locator("#way-idcard")).not_to_have_class(re.compile("down"))

        # 长辈模式: bigger text and spoken prompts
        size = "() => parseFloat(getComputedStyle(document.querySelector('#way-sfm b')).fontSize)"
        before = page.evaluate(size)
        page.click("#elder")
        expect(page.locator("body")).to_have_class(re.compile("elder"))
        assert page.evaluate(size) > before
        page.click("#anon")
        expect(page.locator("#s-menu")).to_be_visible()
        screenshot(page, "kiosk-elder")
        page.wait_for_timeout(300)
        assert voices, "长辈模式 speaks its prompts through /agent/voice.wav"
        page.click("#elder")

        # the server down: a readable message; back up: it goes away
        live_server.stop()
        try:
            page.click(".k-tile[data-act='ticket']")
            expect(page.locator("#net")).to_be_visible(timeout=15000)
            expect(page.locator("#net")).to_contain_text("网络连接中断")
        finally:
            live_server.start()
        page.click("#s-bundles [data-go='idle']")
        page.click(".k-tile[data-act='ticket']")
        expect(page.locator(".k-card[data-bundle='newborn']")).to_be_visible(timeout=15000)
        expect(page.locator("#net")).to_be_hidden()

        land = open_page(page_at, base, 1920, 1080)
        screenshot(land, "kiosk-landscape")


def test_idle_timeout_wipes_the_person(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path, idle_seconds=3) as (_agent, base):
        page = open_page(page_at, base)
        page.request.post(f"{base}/agent/sim/card", data={"who": "adult"})
        expect(page.locator("#who")).to_contain_text("张*", timeout=10000)
        expect(page.locator("#timeout")).to_be_visible(timeout=6000)
        expect(page.locator("#timeout")).to_contain_text("还需要更多时间吗？")
        page.click("#timeout-more")  # a touch keeps it
        expect(page.locator("#timeout")).to_be_hidden()
        expect(page.locator("#who")).to_contain_text("张*")
        expect(page.locator("#timeout")).to_be_visible(timeout=6000)
        expect(page.locator("#s-ident")).to_be_visible(timeout=13000)
        expect(page.locator("#who")).to_be_hidden()
        assert "张*" not in page.content()
