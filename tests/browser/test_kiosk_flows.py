"""The kiosk agent's touch UI in a real browser, with simulated devices against a real server:
identify by ID card or 苏服码, take a (printed) number with elderly priority, read and print the
one-time notice, fill the merged form (ID-card fields prefilled, Chinese typed in pinyin, numbers on
the keypad), print the receipt, query progress, rate (差评 needs a reason), check in a booking by
keypad and by its QR, and the faults and the privacy rules: paper out, a reader down, the server
down, the idle wipe.
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
           "id_number": "11010519491231002X", "date": "20260101", "credit_code": "91320100MA1XXXXXX0"}


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
        expect(page.locator(".k-tile[data-act='checkin']")).to_be_enabled()
        expect(page.locator(".k-tile[data-act='checkin']")).to_contain_text("预约签到")
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
            elif kind in ("text", "address"):  # the pinyin keyboard
                row.locator(".f-edit").click()
                pick(page, "ceshi", "测试")
                page.click("#kb-ok")
                expect(page.locator("#kb")).to_be_hidden()
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


def book(live_server, id_number: str = "320102199003071239", name: str = "张三") -> str:
    """A booking made through the public API (the phone page's calls): its code."""
    status, slots = live_server.call("GET", "/halls/demo/appointments/slots?bundle=real-estate")
    assert status == 200 and slots["days"], slots
    # a day ahead, all its slots still to come (today's next slot may open for check-in within minutes)
    status, slots = live_server.call(
        "GET", f"/halls/demo/appointments/slots?bundle=real-estate&date={slots['days'][-1]}")
    assert status == 200, slots
    start = next(s["start"] for s in slots["slots"] if s["remaining"] > 0)
    status, booked = live_server.call("POST", "/halls/demo/appointments", None, {
        "bundle": "real-estate", "slot_start": start, "id_number": id_number, "name": name})
    assert status == 201, booked
    return booked["code"]


def move_slot(live_server, code: str, minutes_from_now: int) -> None:
    """The day of the booking comes: its slot starts `minutes_from_now` from now (UTC, as stored)."""
    import sqlite3
    from datetime import timedelta

    start = datetime.now(UTC) + timedelta(minutes=minutes_from_now)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    with sqlite3.connect(live_server.database_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE appointment SET slot_start = ?, slot_end = ? WHERE code = ?",
                   (start.replace(tzinfo=None).strftime(fmt),
                    (start + timedelta(minutes=30)).replace(tzinfo=None).strftime(fmt), code))


def type_code(page, code: str) -> None:
    for ch in code:
        page.click(f"#ci-keys [data-k='{ch}']")
    expect(page.locator("#ci-code")).to_have_attribute("data-code", code)
    page.click("#ci-go")


def scanned_booking_qr(live_server, code: str) -> str:
    """What the kiosk's scanner reads from the booking page's QR (decoded from the PNG)."""
    import io
    import urllib.request

    import numpy as np
    import zxingcpp
    from PIL import Image

    with urllib.request.urlopen(f"{live_server.url}/book/demo/qr/{code}.png", timeout=10) as r:
        image = np.array(Image.open(io.BytesIO(r.read())).convert("L"))
    return zxingcpp.read_barcodes(image)[0].text


def test_booking_check_in_by_keypad_and_by_qr(live_server, page_at, tmp_path) -> None:
    code = book(live_server)
    with running_agent(live_server, tmp_path) as (agent, base):
        page = open_page(page_at, base)
        page.click("#anon")
        page.click(".k-tile[data-act='checkin']")
        expect(page.locator("#s-checkin")).to_be_visible()
        for absent in "01OI":  # never in a booking code, so never on the keypad
            assert page.locator(f"#ci-keys [data-k='{absent}']").count() == 0
        page.click("#ci-keys [data-k='A']")
        expect(page.locator("#ci-go")).to_be_disabled()  # eight characters first
        page.click("#ci-keys [data-k='⌫']")
        screenshot(page, "kiosk-checkin")

        # the slot is days away: too early, and the screen says from when
        type_code(page, code)
        msg = page.locator("#ci-msg")
        expect(msg).to_contain_text("还没到签到时间", timeout=10000)
        expect(msg).to_contain_text(re.compile(r"请于\d{2}:\d{2}后签到"))
        screenshot(page, "kiosk-checkin-early")

        # the day comes: the same code gives the booking's ticket, printed like a taken number
        move_slot(live_server, code, 5)
        printed_before = len(agent.devices.printer.documents)
        page.click("#ci-msg [data-ci='retry']")
        type_code(page, code)
        expect(page.locator("#t-head")).to_have_text("签到成功", timeout=10000)
        expect(page.locator("#t-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"))
        expect(page.locator("#t-bundle")).to_contain_text("预约优先")
        expect(page.locator("#t-print")).to_contain_text("号票已打印")
        number = page.locator("#t-number").inner_text()
        doc = agent.devices.printer.documents[printed_before]
        assert number in doc.texts() and "【预约优先】" in doc.texts()
        page.wait_for_function("document.getElementById('t-qr').naturalWidth > 0")
        screenshot(page, "kiosk-checkin-ticket")
        page.click("#t-done")

        # the booking QR held to the scanner again, from the start screen: already checked in
        text = scanned_booking_qr(live_server, code)
        assert text == code
        page.request.post(f"{base}/agent/sim/scan", data={"text": text})
        expect(msg).to_contain_text("已经签到过了", timeout=10000)
        page.click("#ci-msg [data-ci='home']")
        expect(page.locator("#s-ident")).to_be_visible()

        # an unknown code, a cancelled booking and a missed one: each said plainly, with a way on
        page.click("#anon")
        page.click(".k-tile[data-act='checkin']")
        type_code(page, "ABCDEFGH")
        expect(msg).to_contain_text("没有找到这个预约", timeout=10000)
        page.click("#ci-msg [data-ci='retry']")
        cancelled = book(live_server, "11010519491231002X", "王建国")
        status, _ = live_server.call("POST", f"/appointments/{cancelled}/cancel", None,
                                     {"id_number": "11010519491231002X"})
        assert status == 200
        type_code(page, cancelled)
        expect(msg).to_contain_text("这个预约已取消", timeout=10000)
        missed = book(live_server, "11010519491231002X", "王建国")
        move_slot(live_server, missed, -30)
        page.request.post(f"{base}/agent/sim/scan", data={"text": missed})
        expect(msg).to_contain_text("预约已过时", timeout=10000)
        screenshot(page, "kiosk-checkin-late")
        page.click("#ci-msg [data-ci='take']")  # the way on: take a number now
        expect(page.locator("#s-bundles")).to_be_visible()
        assert len(agent.devices.printer.documents) == printed_before + 1  # refusals print nothing


def pick(page, pinyin: str, word: str) -> None:
    """On the pinyin keyboard: type `pinyin`, then touch the candidate `word` (paging if needed)."""
    for ch in pinyin:
        page.click(f"#kb-keys [data-k='{ch}']")
    expect(page.locator("#kb-input")).to_have_text(pinyin)
    cand = page.locator("#kb-cands .k-cand", has_text=re.compile(f"^{word}$"))
    for _ in range(10):
        if cand.count():
            break
        page.click("#kb-cands [data-nav='1']")
    cand.first.click()


def test_id_card_prefill_pinyin_address_and_printed_receipt(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path) as (agent, base):
        page = open_page(page_at, base)
        page.request.post(f"{base}/agent/sim/card", data={"who": "adult"})
        expect(page.locator("#who")).to_contain_text("张*", timeout=10000)

        # 一次告知 printed as a 告知单 on the terminal's printer
        page.click(".k-tile[data-act='notice']")
        page.locator(".k-card[data-bundle='disability']").click()
        expect(page.locator("#n-body")).to_contain_text("所需材料")
        page.click("#n-print")
        expect(page.locator("#n-print-status")).to_contain_text("告知单已打印")
        notice = agent.devices.printer.documents[-1].texts()
        assert "一次告知单" in notice and "残疾人服务一件事" in notice
        assert any(t.startswith("1. ") for t in notice)

        # the merged form: what the card gives is filled in, the ID number masked, the share shown
        page.click("#n-form")
        fill = page.locator("#f-fill")
        expect(fill).to_contain_text("已自动填写 6/")
        auto, total = int(fill.get_attribute("data-auto")), int(fill.get_attribute("data-total"))
        expect(fill).to_contain_text(f"（{round(100 * auto / total)}%）")
        row = lambda key: page.locator(f"#f-body .f-row[data-key='{key}']")  # noqa: E731
        expect(row("applicant_name")).to_contain_text("张三")
        expect(row("applicant_id_number")).to_contain_text("3201**********1239")
        expect(row("applicant_birth_date")).to_contain_text("1990-03-07")
        expect(row("applicant_sex").locator(".f-opt-btn.on")).to_have_text("男")
        expect(row("applicant_nation")).to_contain_text("汉族")
        expect(row("applicant_address")).to_contain_text("江苏省南京市玄武区北京东路41号")
        expect(row("applicant_address")).to_contain_text("已从身份证填写")
        assert "320102199003071239" not in page.content()
        screenshot(page, "kiosk-form-prefilled")

        # 现居住地址 typed in pinyin, one finger, Hanzi picked from the candidate bar
        row("residence_address").locator(".f-edit").click()
        expect(page.locator("#kb")).to_be_visible()
        expect(page.locator("#kb-cands")).to_contain_text("按拼音字母")
        pick(page, "nan", "南")
        pick(page, "jing", "京")
        pick(page, "shi", "市")
        pick(page, "gulou", "鼓楼")
        pick(page, "qu", "区")
        for ch in "88":
            page.click(f"#kb-keys [data-k='{ch}']")
        for ch in "hao":
            page.click(f"#kb-keys [data-k='{ch}']")
        expect(page.locator("#kb-cands .k-cand").first).to_be_visible()
        screenshot(page, "kiosk-pinyin")
        page.locator("#kb-cands .k-cand", has_text=re.compile("^号$")).click()
        expect(page.locator("#kb-text")).to_have_text("南京市鼓楼区88号")
        page.click("#kb-ok")
        expect(page.locator("#kb")).to_be_hidden()
        expect(row("residence_address")).to_contain_text("南京市鼓楼区88号")

        row("contact_phone").locator(".f-edit").click()
        type_on_pad(page, "13800138000")  # numbers on the numeric keypad
        for key in ("disability_category", "applicant_role", "subsidies", "home_service"):
            row(key).locator(".f-opt-btn").first.click()
        for other in page.locator("#f-body .f-row[data-type]").all():
            if "必填" in other.inner_text() and other.get_attribute("data-type") == "select" \
                    and not other.locator(".f-opt-btn.on").count():
                other.locator(".f-opt-btn").first.click()
        # paper out when the receipt prints: the screen says so, keeps the number, offers to retry
        agent.devices.printer.condition = "paper_out"
        page.click("#f-submit")
        number = page.locator("#r-number")
        expect(number).to_have_text(re.compile(r"^SQ\d{8}-\d{4}$"), timeout=10000)
        app_number = number.inner_text()
        expect(page.locator("#r-print")).to_contain_text("缺纸", timeout=10000)
        expect(page.locator("#r-print")).to_contain_text("请拍下屏幕上的申请编号")
        expect(page.locator("#r-reprint")).to_be_visible()
        screenshot(page, "kiosk-receipt-paper-out")

        # paper back: the receipt with the application number is printed; its QR holds the number
        agent.devices.printer.condition = "ok"
        page.click("#r-reprint")
        expect(page.locator("#r-print")).to_contain_text("受理回执已打印")
        expect(page.locator("#r-reprint")).to_be_hidden()
        receipt = agent.devices.printer.documents[-1]
        assert "受理回执" in receipt.texts() and app_number in receipt.texts()
        assert "申请人：张*" in receipt.texts()
        from hardware.printer import Qr

        assert [b.data for b in receipt.blocks if isinstance(b, Qr)] == [app_number]
        status, stored = live_server.call("GET", f"/halls/demo/applications/{app_number}",
                                          live_server.login("manager"))
        assert status == 200, stored
        assert stored["form"]["residence_address"] == "南京市鼓楼区88号"
        assert stored["form"]["applicant_address"] == "江苏省南京市玄武区北京东路41号"
        assert stored["form"]["applicant_nation"] == "汉族"

        # the transaction ends: the card's data leaves the page
        page.click("#r-done")
        expect(page.locator("#s-ident")).to_be_visible()
        content = page.content()
        assert "北京东路" not in content and "鼓楼" not in content and "张三" not in content
        assert page.evaluate("document.getElementById('f-body').innerHTML") == ""

        # the receipt's QR at the scanner: after identifying again, straight to 进度查询
        page.request.post(f"{base}/agent/sim/scan", data={"text": app_number})
        expect(page.locator("#ident-msg")).to_contain_text("请先扫苏服码或刷身份证")
        page.request.post(f"{base}/agent/sim/card", data={"who": "adult"})
        expect(page.locator("#who")).to_contain_text("张*", timeout=10000)
        page.request.post(f"{base}/agent/sim/scan", data={"text": app_number})
        expect(page.locator("#p-number")).to_have_text(app_number)
        expect(page.locator("#p-result")).to_contain_text("已受理", timeout=10000)


def test_new_screens_in_landscape_and_elder_mode(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path) as (_agent, base):
        land = open_page(page_at, base, 1920, 1080)
        land.click("#anon")
        help_tile = land.locator(".k-tile[data-act='assist']").bounding_box()
        assert help_tile and help_tile["y"] + help_tile["height"] <= 1080 - 60  # above the footer
        screenshot(land, "kiosk-menu-landscape")
        land.click(".k-tile[data-act='checkin']")
        for ch in "K7M2":
            land.click(f"#ci-keys [data-k='{ch}']")
        go = land.locator("#ci-go").bounding_box()
        key = land.locator("#ci-keys [data-k='Z']").bounding_box()
        assert go and key and go["y"] + go["height"] <= 1080 and key["height"] >= 80  # all on one screen
        screenshot(land, "kiosk-checkin-landscape")

        # 长辈模式 on the pinyin keyboard: bigger candidates, every key on the screen
        land.click("#ci-back")
        land.click("#elder")
        land.request.post(f"{base}/agent/sim/card", data={"who": "elderly"})
        expect(land.locator("#who")).to_contain_text("王*国", timeout=10000)
        land.click(".k-tile[data-act='form']")
        land.locator(".k-card[data-bundle='disability']").click()
        land.locator("#f-body .f-row[data-key='residence_address'] .f-edit").click()
        pick(land, "bei", "北")
        for ch in "jing":
            land.click(f"#kb-keys [data-k='{ch}']")
        expect(land.locator("#kb-cands .k-cand").first).to_be_visible()
        size = land.evaluate("parseFloat(getComputedStyle(document.querySelector('#kb-cands .k-cand')).fontSize)")
        assert size >= 48
        ok = land.locator("#kb-ok").bounding_box()
        assert ok and ok["y"] + ok["height"] <= 1080
        screenshot(land, "kiosk-pinyin-landscape")
        land.click("#kb-cancel")
        expect(land.locator("#kb")).to_be_hidden()


def test_ask_staff_for_help_from_the_terminal(live_server, page_at, tmp_path) -> None:
    with running_agent(live_server, tmp_path) as (_agent, base):
        page = open_page(page_at, base)
        page.request.post(f"{base}/agent/sim/card", data={"who": "elderly"})
        expect(page.locator("#who")).to_contain_text("王*国", timeout=10000)
        page.click(".k-tile[data-act='assist']")
        expect(page.locator("#s-assist")).to_be_visible()
        page.click("#as-kinds [data-kind='proxy']")
        page.click("#as-phone")
        type_on_pad(page, "13800138000")
        expect(page.locator("#as-phone")).to_have_text("13800138000")
        page.click("#as-go")
        done = page.locator("#as-done")
        expect(done).to_contain_text("已通知工作人员", timeout=10000)
        expect(done).to_contain_text("flows")  # the terminal's device name is the location
        page.wait_for_function("document.querySelector('#as-done .as-qr')?.naturalWidth > 0")
        screenshot(page, "kiosk-assist")
        status, listed = live_server.call("GET", "/halls/demo/assist-requests?scope=active",
                                          live_server.login("manager"))
        assert status == 200, listed
        [req] = listed["requests"]
        assert (req["kind"], req["reason"], req["source"], req["location"]) == ("proxy", "elderly", "kiosk", "flows")
        assert req["phone"] == "13800138000" and req["masked_name"] == "王*国"
        page.click("#as-done [data-as='done']")
        expect(page.locator("#s-ident")).to_be_visible()
        assert "13800138000" not in page.content()
