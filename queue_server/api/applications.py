"""Applications (一表申请 → 统一出件, 进度随时查): kiosks and staff submit, staff advance, and the
applicant follows progress with their own identity token (header X-Identity-Token)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Regexp

from .. import identity_tokens
from ..auth import auth, check_hall, check_hall_code, current
from ..limits import limiter
from ..queue.errors import Unauthorized
from ..runtime import runtime
from ..services import applications as svc
from ..services.common import hall_by_code
from .common import now, responses
from .evaluations import NO_NUL
from .schemas import CODE

bp = APIBlueprint("applications", __name__, url_prefix="/api/v1", tag="Applications")
STAFF = ["clerk", "manager"]


class ApplicationIn(Schema):
    hall = String(required=True, validate=[Length(1, 40), NO_NUL])
    bundle = String(required=True, validate=[CODE])
    identity_token = String(required=True, validate=[Length(1, 500)],
                            metadata={"description": "from POST /api/v1/identify"})
    form = Dict(keys=String(validate=[Length(1, 60), NO_NUL]),
                values=String(validate=[Length(0, 500), NO_NUL]), required=True,
                metadata={"description": "the merged form: {field key: text}; the name, ID number "
                          "and birth date may be left to the identity token"})
    delivery = String(load_default="window", validate=[OneOf(list(svc.DELIVERIES))],
                      metadata={"description": "window: 统一出件窗口领取; post: 免费寄送"})
    address = String(load_default=None, allow_none=True, validate=[Length(1, 200), NO_NUL])
    phone = String(load_default=None, allow_none=True, validate=[Length(1, 20), NO_NUL],
                   metadata={"description": "mobile number for the result notice (SMS)"})


class HistoryOut(Schema):
    status = String(required=True)
    label = String(required=True)
    at = String(required=True)
    note = String(allow_none=True)


class ApplicationOut(Schema):
    """An application; `id`, `form`, `address` and `phone` only in staff views."""

    number = String(required=True, metadata={"description": "SQ20261123-0001"})
    hall = String(required=True)
    hall_name = String(required=True)
    bundle = String(required=True)
    bundle_name = String(required=True)
    status = String(required=True,
                    metadata={"description": "received, in_review, decided, result_ready, delivered"})
    status_label = String(required=True)
    masked_name = String(required=True)
    delivery = String(required=True)
    tracking_number = String(allow_none=True)
    promised_by = String(allow_none=True, metadata={"description": "date promised (限时办结)"})
    overdue = Boolean(required=True)
    received_at = String(required=True)
    phone_masked = String(allow_none=True)
    history = List(Nested(HistoryOut), required=True)
    id = Integer()
    form = Dict()
    address = String(allow_none=True)
    phone = String(allow_none=True)


class ApplicationItem(ApplicationOut):
    """ApplicationOut nested in another schema (apispec names each class once)."""


class ApplicationList(Schema):
    applications = List(Nested(ApplicationItem), required=True)


class ListQuery(Schema):
    state = String(load_default="open", validate=[OneOf(["open", "overdue", "done"])],
                   metadata={"description": "open: result not out yet; overdue: past promised_by; done"})


class IdentityHeader(Schema):
    identity_token = String(data_key="X-Identity-Token", load_default=None, validate=[Length(1, 500)],
                            metadata={"description": "the applicant's identity token"})


class AdvanceIn(Schema):
    to = String(required=True, validate=[OneOf(list(svc.STATUSES[1:]))],
                metadata={"description": "the next status; steps cannot be skipped"})
    note = String(load_default=None, allow_none=True, validate=[Length(0, 500), NO_NUL])
    tracking_number = String(load_default=None, allow_none=True,
                             validate=[Regexp(r"^[A-Za-z0-9-]{6,40}$")],
                             metadata={"description": "post only; needed to reach delivered"})


@bp.post("/applications")
@bp.auth_required(auth, roles=["kiosk", "clerk", "manager"])
@bp.input(ApplicationIn, arg_name="body")
@bp.output(ApplicationOut, status_code=201)
@bp.doc(summary="Submit an application (一表申请): kiosk devices and staff",
        description="The form is checked against the bundle's merged fields (required present, "
        "unknown keys refused). Answers the number, status received and the promised date.",
        responses=responses(400, 401, 403, 404, 409))
def submit(body: dict[str, Any]) -> dict[str, Any]:
    rt, who = runtime(), current()
    check_hall_code(body["hall"])
    person = identity_tokens.verify(rt.settings.secret_key, body["identity_token"])
    sub = svc.Submission(hall=body["hall"], bundle=body["bundle"], person=person, form=body["form"],
                         delivery=body["delivery"], address=body["address"], phone=body["phone"])
    device = who.kind == "device"
    view = svc.submit(rt.database, sub, now(), secret=rt.settings.secret_key, actor=who.actor,
                      source="kiosk" if device else "staff", device_id=who.id if device else None,
                      staff_id=None if device else who.id)
    return view.public()


@bp.get("/applications/<number>")
@bp.input(IdentityHeader, location="headers", arg_name="headers")
@bp.output(ApplicationOut)
@bp.doc(summary="Progress of one's own application (进度随时查)",
        description="Needs the applicant's identity token in the X-Identity-Token header: an unknown "
        "number and someone else's application get the same 404.",
        responses=responses(400, 401, 404, 429))
@limiter.limit(lambda: runtime().settings.public_rate_limit)
def progress(number: str, headers: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    if not headers.get("identity_token"):
        raise Unauthorized("请先扫码或刷身份证核验身份后查询")
    person = identity_tokens.verify(rt.settings.secret_key, headers["identity_token"])
    return svc.progress(rt.database, number, person, now()).public()


@bp.post("/applications/<number>/advance")
@bp.auth_required(auth, roles=STAFF)
@bp.input(AdvanceIn, arg_name="body")
@bp.output(ApplicationOut)
@bp.doc(summary="Move an application to its next status (staff of its hall); audit-logged",
        description="409 application_out_of_order for any other status. Post: delivered needs the "
        "tracking number. Window pickup: result_ready queues an SMS notice in the outbox.",
        responses=responses(400, 401, 403, 404, 409))
def advance(number: str, body: dict[str, Any]) -> dict[str, Any]:
    who = current()
    view = svc.advance(runtime().database, number, body["to"], now(), actor=who.actor,
                       hall_id=None if who.role == "admin" else who.hall_id, note=body["note"],
                       tracking_number=body["tracking_number"])
    return view.staff()


@bp.get("/halls/<hall>/applications")
@bp.auth_required(auth, roles=STAFF)
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(ApplicationList)
@bp.doc(summary="The hall's applications (staff), newest first; overdue ones flagged",
        responses=responses(401, 403, 404))
def list_applications(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    views = svc.list_applications(runtime().database, hall, query["state"], now())
    return {"applications": [v.staff() for v in views]}


@bp.get("/halls/<hall>/applications/<number>")
@bp.auth_required(auth, roles=STAFF)
@bp.output(ApplicationOut)
@bp.doc(summary="One application with its form (staff of the hall)", responses=responses(401, 403, 404))
def staff_view(hall: str, number: str) -> dict[str, Any]:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
    return svc.staff_view(rt.database, number, h.id, now()).staff()
