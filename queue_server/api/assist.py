"""帮办代办 requests: filed by a kiosk, staff or the citizen's phone; claimed, progressed and closed by
帮办代办 staff (role assistant) or managers; followed publicly by token; the day's figures for managers.

The public answers carry masked data only (王*, 138****5678); the full phone, for calling back, and
the citizen's own note go to staff of the request's hall alone.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Regexp
from flask import g, request

from .. import identity_tokens
from ..auth import auth, check_hall, current
from ..limits import limiter, per_principal
from ..models.assist import KINDS, REASONS
from ..queue.errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..runtime import runtime
from ..services import assist as svc
from ..services.common import hall_by_code, today
from .common import now, responses
from .schemas import CODE

bp = APIBlueprint("assist", __name__, url_prefix="/api/v1", tag="Assist")
STAFF = ["assistant", "manager"]  # an admin token carries the manager role too
NO_NUL = Regexp(r"^[^\x00]*$", error="不能包含空字符")  # PostgreSQL text cannot hold NUL
FOLLOW_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PHONE = Regexp(r"^1[3-9][0-9]{9}$", error="请输入11位手机号码")
CITIZEN_LIMIT = "5/hour"  # requests filed from one phone number (or one address without a number)
ADDRESS_LIMIT = "30/hour"  # requests filed anonymously from one address


class AssistIn(Schema):
    kind = String(required=True, validate=[OneOf(list(KINDS))],
                  metadata={"description": "help (帮办) | proxy (代办)"})
    bundle = String(load_default=None, allow_none=True, validate=[CODE],
                    metadata={"description": "a bundle code; null when the citizen is not sure"})
    location = String(load_default=None, allow_none=True, validate=[Length(1, 100), NO_NUL],
                      metadata={"description": "where the citizen is; a kiosk defaults to its name"})
    phone = String(load_default=None, allow_none=True, validate=[PHONE],
                   metadata={"description": "required when filed without a token"})
    reason = String(load_default="other", validate=[OneOf(list(REASONS))])
    identity_token = String(load_default=None, allow_none=True, validate=[Length(1, 500)])
    name = String(load_default=None, allow_none=True, validate=[Length(1, 20), NO_NUL],
                  metadata={"description": "how to address the citizen; stored masked"})
    note = String(load_default=None, allow_none=True, validate=[Length(0, 200), NO_NUL],
                  metadata={"description": "what they need; shown to staff only"})


class AssistNoteIn(Schema):
    note = String(load_default=None, allow_none=True, validate=[Length(0, 500), NO_NUL])


class AssistProgressIn(Schema):
    note = String(required=True, validate=[Length(1, 500), NO_NUL])


class AssistCloseIn(Schema):
    outcome = String(required=True, validate=[OneOf(["done", "cancelled"])])
    note = String(load_default=None, allow_none=True, validate=[Length(0, 500), NO_NUL])


class AssistListQuery(Schema):
    scope = String(load_default="active", validate=[OneOf(["active", "today"])],
                   metadata={"description": "active: open, claimed, in progress; today: filed today"})


class AssistReportQuery(Schema):
    date = String(load_default=None, allow_none=True,
                  validate=[Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", error="日期格式应为 YYYY-MM-DD")],
                  metadata={"description": "YYYY-MM-DD; default today"})


class AssistBundleRef(Schema):
    code = String(required=True)
    name = String(required=True)


class AssistPersonOut(Schema):
    id = Integer()
    name = String(required=True)


class AssistStepOut(Schema):
    action = String(required=True,
                    metadata={"description": "open | claim | progress | release | done | cancel"})
    action_name = String(required=True)
    at = String(required=True)
    note = String(required=True, allow_none=True)
    staff = Nested(AssistPersonOut, required=True, allow_none=True)


class AssistOut(Schema):
    """A request as the citizen sees it (masked data only)."""

    hall = String(required=True)
    hall_name = String(required=True)
    follow_token = String(required=True)
    follow_path = String(required=True)
    follow_url = String(required=True)
    qr_url = String(required=True)
    kind = String(required=True)
    kind_name = String(required=True)
    bundle = Nested(AssistBundleRef, required=True, allow_none=True)
    location = String(required=True)
    reason = String(required=True)
    reason_name = String(required=True)
    status = String(required=True,
                    metadata={"description": "open | claimed | in_progress | done | cancelled"})
    status_name = String(required=True)
    masked_name = String(required=True, allow_none=True)
    phone_masked = String(required=True, allow_none=True)
    created_at = String(required=True)
    ahead = Integer(required=True, allow_none=True)
    helper = Nested(AssistPersonOut, required=True, allow_none=True)
    steps = List(Nested(AssistStepOut), required=True)


class AssistStaffOut(AssistOut):
    """A request as 帮办代办 staff see it: with the full phone and the citizen's note."""

    id = Integer(required=True)
    phone = String(required=True, allow_none=True)
    note = String(required=True, allow_none=True)
    source = String(required=True)
    claimed_at = String(required=True, allow_none=True)
    started_at = String(required=True, allow_none=True)
    done_at = String(required=True, allow_none=True)
    cancelled_at = String(required=True, allow_none=True)
    updated_at = String(required=True)
    wait_min = Float(required=True, allow_none=True)
    handle_min = Float(required=True, allow_none=True)


class AssistStaffItem(AssistStaffOut):
    """AssistStaffOut nested in another schema (apispec names each class once)."""


class AssistListOut(Schema):
    hall = String(required=True)
    requests = List(Nested(AssistStaffItem), required=True)


class AssistKindFigures(Schema):
    kind = String(required=True)
    kind_name = String(required=True)
    requests = Integer(required=True)
    done = Integer(required=True)
    cancelled = Integer(required=True)
    unclaimed = Integer(required=True)
    wait_avg_min = Float(required=True, allow_none=True)
    wait_p50_min = Float(required=True, allow_none=True)
    wait_p90_min = Float(required=True, allow_none=True)
    handle_avg_min = Float(required=True, allow_none=True)
    handle_p50_min = Float(required=True, allow_none=True)
    handle_p90_min = Float(required=True, allow_none=True)


class AssistTotalFigures(AssistKindFigures):
    """AssistKindFigures of all kinds together."""


class AssistReportOut(Schema):
    hall = String(required=True)
    date = String(required=True)
    kinds = List(Nested(AssistKindFigures), required=True)
    total = Nested(AssistTotalFigures, required=True)


def _with_urls(view: dict[str, Any]) -> dict[str, Any]:
    base = runtime().settings.public_url or request.host_url.rstrip("/")
    return {**view, "follow_url": f"{base}{view['follow_path']}", "qr_url": f"{view['follow_path']}/qr.png"}


def _handler() -> svc.Handler:
    who = current()
    return svc.Handler(staff_id=who.id, actor=who.actor, role=who.role, hall_id=who.hall_id)


def _filer_key() -> str:
    """Per device or staff member with a token; else per phone number (hashed), else per address."""
    if g.get("principal") is not None:
        return per_principal()
    body = request.get_json(silent=True)
    phone = body.get("phone") if isinstance(body, dict) else None
    if isinstance(phone, str) and phone:
        return "assist-phone:" + hashlib.sha256(phone[:20].encode()).hexdigest()[:32]
    return per_principal()


def _anonymous() -> bool:
    return g.get("principal") is None


@bp.post("/halls/<hall>/assist-requests")
@bp.auth_required(auth, optional=True)  # type: ignore[arg-type]  # apiflask types it str
@bp.input(AssistIn, arg_name="body")
@bp.output(AssistOut, status_code=201)
@bp.doc(summary="Ask for 帮办代办: a kiosk for its citizen, staff, or the citizen's phone (no token)",
        description="Without a token the phone is required. 409 assist_already_open when the phone "
        "already has an open request in the hall. The answer is the public view with follow_url.",
        responses=responses(400, 401, 403, 404, 409, 429))
@limiter.limit(lambda: runtime().settings.ticket_rate_limit, key_func=_filer_key,
               exempt_when=_anonymous)
@limiter.limit(CITIZEN_LIMIT, key_func=_filer_key, exempt_when=lambda: not _anonymous())
@limiter.limit(ADDRESS_LIMIT, exempt_when=lambda: not _anonymous())
def file_request(hall: str, body: dict[str, Any]) -> Any:
    rt = runtime()
    who = g.get("principal")
    if who is None and request.headers.get("Authorization"):
        raise Unauthorized("令牌无效或已过期")
    if who is None and not body.get("phone"):
        raise BadRequest("请留下手机号码，以便工作人员联系您")
    if who is not None:
        with rt.database.read() as db:
            check_hall(who, hall_by_code(db, hall).id)
        if who.kind == "device" and who.role != "kiosk":
            raise Forbidden("只有自助终端可以代群众提交帮办代办请求")
    identity = (identity_tokens.verify(rt.settings.secret_key, body["identity_token"])
                if body.get("identity_token") else None)
    device = who is not None and who.kind == "device"
    if not device and not body.get("location"):
        raise BadRequest("请说明您所在的位置，例如：24小时自助区 3号终端")
    filing = svc.Filing(kind=body["kind"], location=body.get("location"), bundle=body.get("bundle"),
                        reason=body["reason"], phone=body.get("phone"), name=body.get("name"),
                        note=body.get("note"), identity=identity)
    source = "phone" if who is None else ("kiosk" if device else "staff")
    handler = svc.Handler(who.id, who.actor, who.role, who.hall_id) if who and not device else None
    done = svc.file_request(rt.database, hall, filing, rt.settings.secret_key, now(), source,
                            device_id=who.id if device and who else None, handler=handler)
    rt.publish([done.event])
    public = {k: v for k, v in done.view.items() if k in AssistOut().fields}
    return _with_urls(public)


@bp.get("/assist/<follow_token>")
@bp.output(AssistOut)
@bp.doc(summary="Public status of one 帮办代办 request (the citizen's phone page)",
        responses=responses(404, 429))
@limiter.limit("120/minute", key_func=lambda: f"assist:{(request.view_args or {}).get('follow_token', '')}")
def follow(follow_token: str) -> dict[str, Any]:
    if not FOLLOW_TOKEN.match(follow_token):
        raise NotFound("没有找到该帮办代办请求")
    return _with_urls(svc.follow(runtime().database, follow_token))


@bp.post("/assist/<follow_token>/cancel")
@bp.output(AssistOut)
@bp.doc(summary="The citizen cancels their request while nobody has claimed it",
        responses=responses(404, 409, 429))
@limiter.limit("20/hour", key_func=lambda: f"assist:{(request.view_args or {}).get('follow_token', '')}")
def cancel(follow_token: str) -> dict[str, Any]:
    rt = runtime()
    if not FOLLOW_TOKEN.match(follow_token):
        raise NotFound("没有找到该帮办代办请求")
    done = svc.cancel_by_citizen(rt.database, follow_token, now(), rt.settings.secret_key)
    rt.publish([done.event])
    return _with_urls(svc.follow(rt.database, follow_token))


@bp.get("/halls/<hall>/assist-requests")
@bp.auth_required(auth, roles=STAFF)
@bp.input(AssistListQuery, location="query", arg_name="query")
@bp.output(AssistListOut)
@bp.doc(summary="The hall's 帮办代办 requests (assistant, manager)", responses=responses(401, 403, 404))
def list_requests(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
        rows = svc.list_requests(db, h, rt.settings.secret_key, query["scope"], now())
    return {"hall": hall, "requests": [_with_urls(r) for r in rows]}


@bp.get("/assist-requests/<int(max=2147483647):request_id>")
@bp.auth_required(auth, roles=STAFF)
@bp.output(AssistStaffOut)
@bp.doc(summary="One 帮办代办 request with its steps (assistant, manager)",
        responses=responses(401, 403, 404))
def get_request(request_id: int) -> dict[str, Any]:
    rt = runtime()
    return _with_urls(svc.get_request(rt.database, request_id, _handler(), rt.settings.secret_key))


def _act(name: str, request_id: int, **kwargs: Any) -> dict[str, Any]:
    rt = runtime()
    action = getattr(svc, name)
    done = action(rt.database, request_id, _handler(), now(), rt.settings.secret_key, **kwargs)
    rt.publish([done.event])
    return _with_urls(done.view)


STATE_CHANGE = responses(401, 403, 404, 409)


@bp.post("/assist-requests/<int(max=2147483647):request_id>/claim")
@bp.auth_required(auth, roles=STAFF)
@bp.input(AssistNoteIn, arg_name="body")
@bp.output(AssistStaffOut)
@bp.doc(summary="Claim an open request (409 assist_not_open)", responses=STATE_CHANGE)
def claim(request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act("claim", request_id, note=body.get("note"))


@bp.post("/assist-requests/<int(max=2147483647):request_id>/progress")
@bp.auth_required(auth, roles=STAFF)
@bp.input(AssistProgressIn, arg_name="body")
@bp.output(AssistStaffOut)
@bp.doc(summary="Record progress (its handler or a manager); a claimed request goes in progress",
        responses=STATE_CHANGE)
def record_progress(request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act("progress", request_id, note=body["note"])


@bp.post("/assist-requests/<int(max=2147483647):request_id>/release")
@bp.auth_required(auth, roles=STAFF)
@bp.input(AssistNoteIn, arg_name="body")
@bp.output(AssistStaffOut)
@bp.doc(summary="Put a claimed request back in the open list", responses=STATE_CHANGE)
def release(request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act("release", request_id, note=body.get("note"))


@bp.post("/assist-requests/<int(max=2147483647):request_id>/close")
@bp.auth_required(auth, roles=STAFF)
@bp.input(AssistCloseIn, arg_name="body")
@bp.output(AssistStaffOut)
@bp.doc(summary="Close a request: done (its handler) or cancelled", responses=STATE_CHANGE)
def close(request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act("close", request_id, outcome=body["outcome"], note=body.get("note"))


@bp.get("/halls/<hall>/assist-report")
@bp.auth_required(auth, roles=["manager"])
@bp.input(AssistReportQuery, location="query", arg_name="query")
@bp.output(AssistReportOut)
@bp.doc(summary="A day's 帮办代办 figures per kind: waiting (filed → claim) and handling (claim → done)",
        responses=responses(400, 401, 403, 404))
def report(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
        day = _day(query.get("date")) or today(h, now())
    return svc.assist_report(rt.database, hall, day)


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest("日期无效，应为 YYYY-MM-DD") from None
