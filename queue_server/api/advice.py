"""The window-allocation advice for the rest of today (manager), and how yesterday's advice fared."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Float, Integer, List, Nested, String
from apiflask.validators import Range

from ..auth import auth, check_hall_code, current
from ..runtime import runtime
from ..simulate.live import give_advice
from .common import now, responses

bp = APIBlueprint("advice", __name__, url_prefix="/api/v1", tag="Advice")

Minutes = Float(required=True, allow_none=True)


class AdviceQuery(Schema):
    budget = Float(load_default=4.0, validate=[Range(0.5, 20)],
                   metadata={"description": "seconds the advisor may search (0.5–20)"})


class Rank(Schema):
    code = String(required=True)
    rank = Integer(required=True)


class Change(Schema):
    number = Integer(required=True)
    name = String(required=True)
    current = List(Nested(Rank), required=True)
    advised = List(Nested(Rank), required=True)


class BundleAdvice(Schema):
    code = String(required=True)
    name = String(required=True)
    expected = Float(required=True, metadata={"description": "tickets expected for the rest of the day"})
    waiting = Integer(required=True)
    current_p50 = Minutes
    current_p90 = Minutes
    advised_p50 = Minutes
    advised_p90 = Minutes


class BundleCheck(Schema):
    code = String(required=True)
    name = String(required=True)
    predicted_current_p90 = Minutes
    predicted_advised_p90 = Minutes
    actual_p50 = Minutes
    actual_p90 = Minutes
    called = Integer(required=True)


class Previous(Schema):
    date = String(required=True)
    at = String(required=True)
    allocation_changes_after = Integer(required=True)
    hall_p90_current = Minutes
    hall_p90_advised = Minutes
    hall_p90_actual = Minutes
    bundles = List(Nested(BundleCheck), required=True)


class AdviceOut(Schema):
    id = Integer(required=True)
    hall = String(required=True)
    at = String(required=True)
    horizon_end = String(required=True)
    open_windows = Integer(required=True)
    hall_p90_current = Minutes
    hall_p90_advised = Minutes
    seconds = Float(required=True)
    evaluations = Integer(required=True)
    bundles = List(Nested(BundleAdvice), required=True)
    changes = List(Nested(Change), required=True)
    previous = Nested(Previous, required=True, allow_none=True)


@bp.get("/halls/<hall>/advice")
@bp.auth_required(auth, roles=["manager"])
@bp.input(AdviceQuery, location="query", arg_name="query")
@bp.output(AdviceOut)
@bp.doc(summary="Window-allocation advice for the rest of today (manager), stored for checking",
        description="Simulates the rest of the service day from the live queue (waiting tickets, open "
        "windows and their allocations, measured service times, the hall's arrivals by hour over its "
        "last 7 days) through the queue rules, searches allocations that lower the 90th-percentile "
        "wait, stores the advice, and gives the previous day's last advice beside that day's actual "
        "waits (called_at − taken_at of the tickets called after the advice).",
        responses=responses(401, 403, 404))
def advice(hall: str, query: dict[str, Any]) -> Any:
    check_hall_code(hall)
    return give_advice(runtime().database, hall, now(), current().actor, budget_s=query["budget"])
