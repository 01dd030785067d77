"""The rating pad (窗口评价器) facing the citizen: which finished ticket of its window it may offer to rate.

A finished ticket's track token is kept off the public screens, so the pad asks here with its device
token. Only the window's latest finished ticket counts: once that one is rated (or older than the
window), the pad has nothing to offer, so a later citizen is never asked to rate someone else's service.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import String
from sqlalchemy import select

from ..auth import auth, check_hall, current
from ..models import Ticket, Window
from ..models.service import Evaluation
from ..queue.calling import Status
from ..queue.errors import NotFound
from ..runtime import runtime
from .common import now, responses

bp = APIBlueprint("ratingpad", __name__, url_prefix="/api/v1", tag="Evaluations")
RATE_WITHIN = timedelta(minutes=10)  # the citizen rates at the counter, right after the matter is done


class NothingToRate(NotFound):
    code = "nothing_to_rate"


class LastFinishedOut(Schema):
    number = String(required=True)
    bundle_name = String(required=True)
    track_token = String(required=True, metadata={"description": "credential for POST /evaluations"})
    finished_at = String(required=True)


@bp.get("/windows/<int(max=2147483647):window>/last-finished")
@bp.auth_required(auth, roles=["rating_pad"])
@bp.output(LastFinishedOut)
@bp.doc(summary="The window's ticket the rating pad may offer: finished in the last 10 minutes, unrated",
        description="Rating pads of the window's hall and its staff only. Only the latest finished "
        "ticket counts; 404 nothing_to_rate when it is rated, too old or there is none. Nothing about "
        "the citizen is returned.",
        responses=responses(401, 403, 404))
def last_finished(window: int) -> dict[str, Any]:
    at = now()
    with runtime().database.read() as db:
        w = db.get(Window, window)
        if w is None:
            raise NotFound(f"没有编号为 {window} 的窗口")
        check_hall(current(), w.hall_id)
        ticket = db.scalar(select(Ticket)
                           .where(Ticket.window_id == w.id, Ticket.status == Status.DONE.value,
                                  Ticket.finished_at.is_not(None))
                           .order_by(Ticket.finished_at.desc(), Ticket.id.desc()).limit(1))
        if ticket is None or ticket.finished_at is None or ticket.finished_at < at - RATE_WITHIN:
            raise NothingToRate("暂无待评价的服务")
        if db.scalar(select(Evaluation.id).where(Evaluation.ticket_id == ticket.id)) is not None:
            raise NothingToRate("本次服务已评价")
        return {"number": ticket.number, "bundle_name": ticket.bundle.name,
                "track_token": ticket.track_token, "finished_at": ticket.finished_at.isoformat()}
