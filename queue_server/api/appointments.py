"""Appointments (预约): slots and booking (public), lookup and cancel (the holder), check-in (kiosks and
staff), the day's list (managers); and the phone booking page /book/{hall} with the booking code's QR.

The holder proves who they are with an identity token (from POST /api/v1/identify: a 苏服码 scan or
an ID card at a kiosk) or with their ID number; lookup takes it in a header (X-Identity-Token or
X-Id-Number), never in the URL, so ID numbers stay out of access logs. Only the keyed hash of an
ID number and the masked name are stored.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import segno
from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Date, DateTime, Integer, List, Nested, String
from apiflask.validators import Length, Regexp
from flask import Response, render_template
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError, validates_schema

from .. import identity_tokens
from ..auth import auth, check_hall, current
from ..limits import limiter, per_caller
from ..queue import identity as ids
from ..queue.errors import BadRequest, NotFound
from ..queue.priority import Identity
from ..runtime import runtime
from ..services import appointments as svc
from ..services.common import hall_by_code, today
from ..services.settings import policy
from ..tokens import identity_hash
from .common import now, responses
from .schemas import CODE, TicketOut

bp = APIBlueprint("appointments", __name__, tag="Appointments")
NO_NUL = Regexp(r"^[^\x00]*$", error="不能包含空字符")  # PostgreSQL text cannot hold NUL
BOOKING_CODE = re.compile(rf"^[{svc.CODE_ALPHABET}{svc.CODE_ALPHABET.lower()}]{{{svc.CODE_LENGTH}}}$")
PUBLIC = lambda: runtime().settings.public_rate_limit  # noqa: E731


class SlotQuery(Schema):
    bundle = String(required=True, validate=[CODE])
    date = Date(load_default=None, metadata={"description": "YYYY-MM-DD; default the first bookable day"})


class SlotOut(Schema):
    start = String(required=True)
    end = String(required=True)
    capacity = Integer(required=True)
    booked = Integer(required=True)
    remaining = Integer(required=True)


class SlotsOut(Schema):
    hall = String(required=True)
    bundle = String(required=True)
    date = String(required=True, allow_none=True)
    days = List(String(), required=True)
    slots = List(Nested(SlotOut), required=True)
    walk_in_share = String(required=True)
    per_person_limit = Integer(required=True)
    grace_min = Integer(required=True)
    days_ahead = Integer(required=True)


class ProofIn(Schema):
    """Who the citizen is: an identity token, or the ID number (name too, when booking)."""

    identity_token = String(validate=[Length(1, 500)])
    id_number = String(validate=[Length(1, 30), NO_NUL])

    @validates_schema
    def _one_proof(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("identity_token" in data) == ("id_number" in data):
            raise ValidationError("请提供身份核验令牌(identity_token)或身份证号(id_number)，二选一",
                                  "identity_token")


class BookIn(ProofIn):
    bundle = String(required=True, validate=[CODE])
    slot_start = DateTime(required=True, metadata={"description": "a slot's start, ISO 8601 with offset"})
    name = String(validate=[Length(1, 20), NO_NUL], metadata={"description": "with id_number"})
    phone = String(load_default=None, allow_none=True,
                   validate=[Regexp(r"^1[3-9][0-9]{9}$", error="请输入11位手机号码")])

    @validates_schema
    def _name_with_number(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "id_number" in data and not (data.get("name") or "").strip():
            raise ValidationError("请填写姓名", "name")


class CheckInIn(Schema):
    identity_token = String(load_default=None, allow_none=True, validate=[Length(1, 500)],
                            metadata={"description": "optional: a scanned identity must be the holder's"})


class ProofHeaders(Schema):
    identity_token = String(data_key="X-Identity-Token", validate=[Length(1, 500)])
    id_number = String(data_key="X-Id-Number", validate=[Length(1, 30), NO_NUL])


class AppointmentOut(Schema):
    code = String(required=True)
    hall = String(required=True)
    bundle = String(required=True)
    bundle_name = String(required=True)
    slot_start = String(required=True)
    slot_end = String(required=True)
    status = String(required=True, metadata={"description": "booked | checked_in | cancelled | missed"})
    masked_name = String(required=True)
    late = Boolean(required=True)
    ticket_number = String(required=True, allow_none=True)
    track_token = String(required=True, allow_none=True)
    check_in_from = String(required=True)
    check_in_until = String(required=True)
    grace_min = Integer(required=True)


class DayQuery(Schema):
    date = Date(load_default=None, metadata={"description": "YYYY-MM-DD; default today"})


class AppointmentCounts(Schema):
    booked = Integer(required=True)
    checked_in = Integer(required=True)
    late = Integer(required=True)
    missed = Integer(required=True)
    cancelled = Integer(required=True)
    total = Integer(required=True)


class AppointmentDayOut(Schema):
    hall = String(required=True)
    date = String(required=True)
    counts = Nested(AppointmentCounts, required=True)
    appointments = List(Nested(AppointmentOut), required=True)


def _identity(proof: dict[str, Any], name: str | None = None) -> Identity:
    secret = runtime().settings.secret_key
    if proof.get("identity_token"):
        return identity_tokens.verify(secret, proof["identity_token"])
    number = ids.validate(proof.get("id_number") or "", today=now().date())
    return Identity(id_hash=identity_hash(secret, number), birth_date=ids.birth_date(number),
                    masked_name=ids.mask_name(name or ""))


def _code(code: str) -> str:
    if not BOOKING_CODE.match(code):
        raise NotFound("没有找到该预约，请核对预约码")
    return code.upper()


@bp.get("/api/v1/halls/<hall>/appointments/slots")
@bp.input(SlotQuery, location="query", arg_name="query")
@bp.output(SlotsOut)
@bp.doc(summary="Bookable days and the half-hour slots of one day, with remaining places (public)",
        description="Capacity per slot: see queue_server/services/appointments.py (windows serving the "
        "bundle, rank-weighted share, measured service time, less the walk-in share).",
        responses=responses(404, 429))
@limiter.limit(PUBLIC)
def slots(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    days, shown, found = svc.list_slots(runtime().database, hall, query["bundle"], query["date"], now())
    rules = svc.hall_policy(runtime().database, hall)
    return {"hall": hall, "bundle": query["bundle"], "date": shown.isoformat() if shown else None,
            "days": [d.isoformat() for d in days], "slots": [s.to_json() for s in found],
            "walk_in_share": f"{rules.walk_in_share:.2f}", "per_person_limit": rules.per_person_limit,
            "grace_min": rules.grace_min, "days_ahead": rules.days_ahead}


@bp.post("/api/v1/halls/<hall>/appointments")
@bp.input(BookIn, arg_name="body")
@bp.output(AppointmentOut, status_code=201)
@bp.doc(summary="Book a slot (public; name + ID number, or an identity token)",
        description="400 invalid_id_number / slot_unavailable; 409 slot_full / booking_limit.",
        responses=responses(400, 404, 409, 429))
@limiter.limit(PUBLIC)
def book(hall: str, body: dict[str, Any]) -> Any:
    who = _identity(body, body.get("name"))
    booked = svc.book(runtime().database, hall, body["bundle"], body["slot_start"], who, now(),
                      phone=body.get("phone"))
    return booked.to_json()


@bp.get("/api/v1/halls/<hall>/appointments")
@bp.auth_required(auth, roles=["manager"])
@bp.input(DayQuery, location="query", arg_name="query")
@bp.output(AppointmentDayOut)
@bp.doc(summary="The day's appointments of a hall with counts (manager)",
        description="late = checked in after the slot start; missed = not checked in by start + grace.",
        responses=responses(401, 403, 404))
def day_list(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
        day: date = query["date"] or today(h, now())
    counts, views = svc.day_report(rt.database, hall, day, now())
    return {"hall": hall, "date": day.isoformat(), "counts": counts,
            "appointments": [v.to_json() for v in views]}


@bp.get("/api/v1/appointments/<code>")
@bp.input(ProofHeaders, location="headers", arg_name="headers")
@bp.output(AppointmentOut)
@bp.doc(summary="Look up one's booking (the holder: X-Identity-Token or X-Id-Number header)",
        description="404 when the code is unknown or is not the holder's.",
        responses=responses(400, 404, 429))
@limiter.limit(PUBLIC)
def lookup(code: str, headers: dict[str, Any]) -> dict[str, Any]:
    if not headers.get("identity_token") and not headers.get("id_number"):
        raise BadRequest("请提供身份证号或身份核验令牌以查询预约")
    found = svc.lookup(runtime().database, _code(code), _identity(headers).id_hash, now())
    return found.to_json()


@bp.post("/api/v1/appointments/<code>/cancel")
@bp.input(ProofIn, arg_name="body")
@bp.output(AppointmentOut)
@bp.doc(summary="Cancel one's booking (the holder)", description="409 not_booked once checked in, "
        "missed or cancelled.", responses=responses(400, 404, 409, 429))
@limiter.limit(PUBLIC)
def cancel(code: str, body: dict[str, Any]) -> dict[str, Any]:
    done = svc.cancel(runtime().database, _code(code), _identity(body).id_hash, now())
    return done.to_json()


@bp.post("/api/v1/appointments/<code>/check-in")
@bp.auth_required(auth, roles=["kiosk", "clerk", "manager"])
@bp.input(CheckInIn, arg_name="body")
@bp.output(TicketOut, status_code=201)
@bp.doc(summary="Check in a booking at the hall: its one ticket, served as a due appointment",
        description=f"From {svc.EARLY_MIN} min before the slot start to the hall's grace after; "
        "409 too_early, too_late (the booking is then missed), already_checked_in, not_booked.",
        responses=responses(400, 401, 403, 404, 409, 429))
@per_caller(lambda: runtime().settings.ticket_rate_limit)
def check_in(code: str, body: dict[str, Any]) -> Any:
    rt = runtime()
    who = current()
    id_hash = (identity_tokens.verify(rt.settings.secret_key, body["identity_token"]).id_hash
               if body.get("identity_token") else None)
    hall_id = None if who.role == "admin" else who.hall_id
    done = svc.check_in(rt.database, _code(code), now(), hall_id=hall_id, id_hash=id_hash)
    rt.publish(done.events)
    return done.ticket.to_json()


# --- the phone page ------------------------------------------------------------------------------

@bp.get("/book/<hall>")
@bp.doc(hide=True)
def page(hall: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        rules = policy(db, h)
        return render_template("book.html", hall=h, version=rt.version, grace=rules.grace_min,
                               early=svc.EARLY_MIN, limit=rules.per_person_limit)


@bp.get("/book/<hall>/qr/<code>.png")
@bp.doc(hide=True)
def qr(hall: str, code: str) -> ResponseReturnValue:
    """The booking code as a QR (the kiosk's scanner reads it at check-in), PNG."""
    code = _code(code)
    buf = io.BytesIO()
    segno.make(code, error="m").save(buf, kind="png", scale=8, border=2)
    return Response(buf.getvalue(), mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})
