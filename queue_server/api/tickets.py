"""Taking a number (kiosks and staff), following it (public), and requeueing a no-show (staff)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from .. import identity_tokens
from ..auth import auth, check_hall, current
from ..limits import limiter, per_caller, per_track_token
from ..models import Ticket
from ..queue.errors import NotFound
from ..runtime import runtime
from ..services import tickets
from ..services.common import hall_by_code
from .common import now, responses
from .schemas import IdempotencyHeader, TakeTicketIn, TicketEnvelope, TicketOut, TrackOut

bp = APIBlueprint("tickets", __name__, url_prefix="/api/v1", tag="Tickets")


@bp.post("/halls/<hall>/tickets")
@bp.auth_required(auth, roles=["kiosk", "clerk", "manager"])
@bp.input(TakeTicketIn, arg_name="body")
@bp.input(IdempotencyHeader, location="headers", arg_name="headers")
@bp.output(TicketOut, status_code=201)
@bp.doc(summary="Take a number", description="Kiosk devices and staff (e.g. a 导服 at reception). "
        "The same Idempotency-Key returns the same ticket (200 on a replay).",
        responses=responses(400, 401, 403, 404, 409, 429))
@per_caller(lambda: runtime().settings.ticket_rate_limit)
def take(hall: str, body: dict[str, Any], headers: dict[str, Any]) -> Any:
    rt = runtime()
    who = current()
    identity = (identity_tokens.verify(rt.settings.secret_key, body["identity_token"])
                if body.get("identity_token") else None)
    issued = tickets.take_ticket(
        rt.database, hall, body["bundle"], None, identity=identity, priority=body.get("priority"),
        idempotency_key=headers.get("idempotency_key"),
        source="kiosk" if who.kind == "device" else "staff",
        device_id=who.id if who.kind == "device" else None,
        check_hall=lambda hall_id: check_hall(who, hall_id),
    )
    rt.publish(issued.events)
    if not issued.created:
        return issued.ticket.to_json(), 200
    return issued.ticket.to_json()


@bp.get("/track/<track_token>")
@bp.output(TrackOut)
@bp.doc(summary="Public live status of one ticket (the phone page)", responses=responses(404, 429))
@limiter.limit("120/minute", key_func=per_track_token)
def track(track_token: str) -> dict[str, Any]:
    rt = runtime()
    hall_code, view = tickets.track(rt.database, track_token, now())
    with rt.database.read() as db:
        hall = hall_by_code(db, hall_code)
        return {"hall": hall.code, "hall_name": hall.name, "ticket": view.to_json()}


@bp.post("/tickets/<int(max=2147483647):ticket_id>/requeue")
@bp.auth_required(auth, roles=["clerk", "manager"])
@bp.output(TicketEnvelope)
@bp.doc(summary="Put a no-show back in line (过号重排), the hall's configured places behind",
        responses=responses(401, 403, 404, 409))
def requeue(ticket_id: int) -> dict[str, Any]:
    rt = runtime()
    who = current()
    with rt.database.read() as db:
        ticket = db.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound("号票不存在")
        check_hall(who, ticket.hall_id)
    view, events = tickets.requeue(rt.database, ticket_id, now(),
                                   audited_as=None if who.role == "clerk" else who.actor)
    rt.publish(events)
    return {"ticket": view.to_json()}
