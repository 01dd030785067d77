"""Printing the 一次告知单 and the 受理回执 on the terminal's printer.

The agent lays out what the server says, not what the browser sends: the notice comes from
GET /bundles/{code}, the receipt from GET /applications/{number} with the applicant's identity
token. A printer that cannot print (paper out, offline) is reported in plain words and logged for
the technician; the screen keeps the content for the citizen to photograph.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from flask.typing import ResponseReturnValue

if TYPE_CHECKING:
    from hardware.printer import Document

    from .agent import Agent

FORMS = {"original": "原件", "copy": "复印件", "electronic": "电子证照"}
BUNDLE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
APPLICATION = re.compile(r"^SQ[0-9]{8}-[0-9]{4,5}$")


def print_document(agent: Agent, build: Callable[[Any], Document], what: str) -> dict[str, Any]:
    """Print `build(paper)`; {printed, status?, message}: when it cannot, say so and never raise."""
    from hardware.printer import PrinterError

    printer = agent.devices.printer
    if printer is None:
        return {"printed": False, "status": "none",
                "message": f"本机未连接打印机，请拍下屏幕上的{what}"}
    status = printer.status()
    if not status.can_print:
        agent.fault("printer", status.state.value, status.message, status.detail or "")
        return {"printed": False, "status": status.state.value,
                "message": f"{status.message}。请拍下屏幕上的{what}"}
    try:
        printer.print_document(build(printer.paper))
    except PrinterError as e:
        agent.fault("printer", e.code, "打印失败", str(e))
        return {"printed": False, "status": "error", "message": f"打印失败，请拍下屏幕上的{what}"}
    agent.device_state["printer"] = {"ok": True, "message": ""}
    return {"printed": True, "status": status.state.value, "message": status.message}


def _days(n: int | None) -> str | None:
    if n is None:
        return None
    return "即办（当场办结）" if n == 0 else f"{n}个工作日"


def _material(m: dict[str, Any]) -> str:
    marks = [FORMS.get(m.get("form", ""), "")]
    if m.get("copies", 1) > 1:
        marks.append(f"{m['copies']}份")
    if m.get("exempt"):
        marks.append("免提交")
    if m.get("tolerated"):
        marks.append("可容缺")
    if m.get("promise_allowed"):
        marks.append("可告知承诺")
    shown = "，".join(x for x in marks if x)
    return f"{m['name']}（{shown}）" if shown else str(m["name"])


def notice_document(paper: Any, notice: dict[str, Any], hall: str) -> Document:
    from hardware.printer import notice_layout

    limits = [f"法定{d}" for d in [_days(notice.get("legal_days"))] if d]
    limits += [f"承诺{d}" for d in [_days(notice.get("promised_days"))] if d]
    return notice_layout(
        paper, hall=hall, bundle=notice["name"],
        matters=[m["name"] for m in notice.get("matters", [])],
        materials=[_material(m) for m in notice.get("materials", [])],
        conditions=list(notice.get("conditions") or []), time_limit="，".join(limits) or None,
        fees=notice.get("fees") or "不收费", printed_at=datetime.now(UTC).astimezone())


def receipt_document(paper: Any, app: dict[str, Any]) -> Document:
    from hardware.printer import receipt_layout

    post = app.get("delivery") == "post"
    notes = ["结果领取：免费邮寄，寄出时短信通知" if post else "结果领取：统一出件窗口，结果出来后短信通知",
             "凭申请编号和本人身份证或苏服码，可在自助终端“进度查询”随时查看；"
             "扫描上方二维码可直接填入申请编号"]
    return receipt_layout(
        paper, hall=app.get("hall_name") or "政务服务中心", bundle=app["bundle_name"],
        application_number=app["number"], applicant=app["masked_name"],
        submitted_at=datetime.fromisoformat(app["received_at"]).astimezone(),
        progress_url=app["number"],
        promised=f"{app['promised_by']} 前办结" if app.get("promised_by") else None, notes=notes)


def _refused(reply: Any) -> tuple[dict[str, Any], int]:
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error") or {"code": "error", "message": "暂时无法读取，请稍后再试"}
    return {"error": error}, reply.status if 400 <= reply.status < 600 else 502


def register_printing(app: Flask, agent: Agent) -> None:
    @app.post("/agent/print/notice")
    def print_notice() -> ResponseReturnValue:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            data = {}
        code = data.get("bundle")
        if not isinstance(code, str) or not BUNDLE_CODE.match(code):
            return {"error": {"code": "bad_request", "message": "需要事项编码"}}, 400
        reply = agent.server.request("GET", f"/bundles/{code}")
        if reply.status != 200:
            return _refused(reply)
        hall = str(data.get("hall_name") or "政务服务中心")[:40]
        return print_document(agent, lambda paper: notice_document(paper, reply.body, hall), "告知内容")

    @app.post("/agent/print/receipt")
    def print_receipt() -> ResponseReturnValue:
        data = request.get_json(silent=True)
        number = data.get("application") if isinstance(data, dict) else None
        token = data.get("identity_token") if isinstance(data, dict) else None
        if not isinstance(number, str) or not APPLICATION.match(number) or not isinstance(token, str) \
                or not 0 < len(token) <= 500:
            return {"error": {"code": "bad_request", "message": "需要申请编号和身份核验令牌"}}, 400
        reply = agent.server.request("GET", f"/applications/{number}", headers={"X-Identity-Token": token})
        if reply.status != 200:
            return _refused(reply)
        return print_document(agent, lambda paper: receipt_document(paper, reply.body),
                              "申请编号")
