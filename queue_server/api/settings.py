"""Hall policy (appointments, surge thresholds), the holiday calendar, and the surge alerts (manager)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Date, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp

from ..auth import auth, check_hall_code, current
from ..events import QueueUpdated
from ..models.service import POLICY
from ..queue.errors import BadRequest
from ..runtime import runtime
from ..services import alerts
from ..services import settings as svc
from ..services.evaluations import FIRST_DAY, LAST_DAY
from .common import now, responses
from .schemas import CODE

bp = APIBlueprint("settings", __name__, url_prefix="/api/v1", tag="Settings")
MANAGER = ["manager"]
DAY = [Range(FIRST_DAY, LAST_DAY)]


def _bounded(key: str, description: str, **kw: Any) -> Integer:
    default, low, high = POLICY[key]
    return Integer(validate=[Range(low, high)], metadata={
        "description": f"{description} ({low}–{high}, default {default})"}, **kw)


class BundleThreshold(Schema):
    code = String(required=True, validate=[CODE])
    name = String(dump_only=True)
    prefix = String(dump_only=True)
    waiting = _bounded("surge_waiting", "own waiting-count threshold; null: the hall's", allow_none=True)
    wait_min = _bounded("surge_wait_min", "own longest-wait threshold; null: the hall's", allow_none=True)


class SettingsIn(Schema):
    """Fields left out stay as they are; `bundles`, when given, replaces every bundle's own thresholds."""

    walk_in_percent = _bounded("walk_in_percent", "share of slot capacity kept for walk-ins, %")
    grace_min = _bounded("grace_min", "minutes after the slot start a booking may still check in")
    per_person_limit = _bounded("per_person_limit", "open bookings one person may hold")
    days_ahead = _bounded("days_ahead", "booking horizon in days after today")
    surge_waiting = _bounded("surge_waiting", "hall-wide surge threshold: people waiting for a bundle")
    surge_wait_min = _bounded("surge_wait_min", "hall-wide surge threshold: longest wait, minutes")
    closing_guard = _bounded("closing_guard", "1: a bundle stops issuing numbers when a new one could not "
                             "be served before closing time")
    bundles = List(Nested(BundleThreshold), validate=[Length(max=200)])


class SettingsOut(Schema):
    hall = String(required=True)
    walk_in_percent = Integer(required=True)
    grace_min = Integer(required=True)
    per_person_limit = Integer(required=True)
    days_ahead = Integer(required=True)
    surge_waiting = Integer(required=True)
    surge_wait_min = Integer(required=True)
    closing_guard = Integer(required=True)
    limits = Dict(keys=String(), values=Dict(keys=String(), values=Integer()), required=True)
    bundles = List(Nested(BundleThreshold), required=True)


class CalendarQuery(Schema):
    start = Date(load_default=None, validate=DAY, metadata={"description": "default: today"})
    end = Date(load_default=None, validate=DAY, metadata={"description": "default: start + 365 days"})


class DayIn(Schema):
    kind = String(required=True, validate=[OneOf(list(svc.DAY_KINDS))],
                  metadata={"description": "closed (法定节假日) | working (调休上班)"})
    note = String(load_default=None, allow_none=True, validate=[Length(max=60), Regexp(r"^[^\x00]*$")])


class CalendarDay(Schema):
    date = String(required=True)
    kind = String(required=True)
    label = String(required=True)
    note = String(required=True, allow_none=True)
    weekday = Integer(required=True, metadata={"description": "1 = Monday … 7 = Sunday"})


class CalendarEntry(CalendarDay):
    """A day of the calendar list (its own class: one schema class per spec component)."""


class CalendarOut(Schema):
    hall = String(required=True)
    start = String(required=True)
    end = String(required=True)
    days = List(Nested(CalendarEntry), required=True)


class AlertWindow(Schema):
    number = Integer(required=True)
    name = String(required=True)
    state = String(metadata={"description": "closed | paused (windows to open)"})
    waiting = Integer(metadata={"description": "people waiting for its bundles (windows to reallocate)"})
    bundles = List(String())


class AlertOut(Schema):
    bundle = String(required=True)
    name = String(required=True)
    prefix = String(required=True)
    waiting = Integer(required=True)
    longest_wait_min = Integer(required=True)
    waiting_threshold = Integer(required=True)
    wait_threshold_min = Integer(required=True)
    reasons = List(String(), required=True, metadata={"description": "waiting | wait"})
    open = List(Nested(AlertWindow), required=True)
    reallocate = List(Nested(AlertWindow), required=True)


class AlertsOut(Schema):
    hall = String(required=True)
    alerts = List(Nested(AlertOut), required=True)
    at = String(required=True)


@bp.get("/halls/<hall>/settings")
@bp.auth_required(auth, roles=MANAGER)
@bp.output(SettingsOut)
@bp.doc(summary="The hall's appointment policy and surge thresholds (manager)",
        responses=responses(401, 403, 404))
def get_settings(hall: str) -> dict[str, Any]:
    check_hall_code(hall)
    return svc.get_settings(runtime().database, hall)


@bp.put("/halls/<hall>/settings")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(SettingsIn, arg_name="body")
@bp.output(SettingsOut)
@bp.doc(summary="Change the hall's appointment policy and surge thresholds (manager; audit-logged)",
        description="Capacity and bookable days follow at once; the surge alert is re-evaluated and pushed.",
        responses=responses(400, 401, 403, 404))
def put_settings(hall: str, body: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    rt = runtime()
    changed = svc.update_settings(rt.database, hall, {k: body.get(k) for k in POLICY}, body.get("bundles"),
                                  now(), current().actor)
    rt.publish((QueueUpdated(hall),))  # thresholds changed: managers get the alerts again
    return changed


@bp.put("/halls/<hall>/calendar/<day>")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(DayIn, arg_name="body")
@bp.output(CalendarDay)
@bp.doc(summary="Mark a day closed or a 调休 working day (manager; audit-logged)",
        responses=responses(400, 401, 403, 404))
def put_day(hall: str, day: str, body: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    return svc.set_day(runtime().database, hall, _day(day), body["kind"], body["note"], now(),
                       current().actor)


@bp.get("/halls/<hall>/calendar")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(CalendarQuery, location="query", arg_name="query")
@bp.output(CalendarOut)
@bp.doc(summary="The hall's holidays and 调休 working days (manager)",
        responses=responses(400, 401, 403, 404))
def calendar(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    start: date = query["start"] or now().date()
    end: date = query["end"] or start + timedelta(days=365)
    return {"hall": hall, "start": start.isoformat(), "end": end.isoformat(),
            "days": svc.list_days(runtime().database, hall, start, end)}


@bp.delete("/halls/<hall>/calendar/<day>")
@bp.auth_required(auth, roles=MANAGER)
@bp.output({}, status_code=204)
@bp.doc(summary="Make a day ordinary again (manager; audit-logged)", responses=responses(400, 401, 403, 404))
def delete_day(hall: str, day: str) -> tuple[str, int]:
    check_hall_code(hall)
    svc.delete_day(runtime().database, hall, _day(day), now(), current().actor)
    return "", 204


@bp.get("/halls/<hall>/alerts")
@bp.auth_required(auth, roles=MANAGER)
@bp.output(AlertsOut)
@bp.doc(summary="办件激增预警 now (manager): bundles past their thresholds, windows to open or reallocate",
        description="The same payload as the `surge_alert` event of the manager room.",
        responses=responses(401, 403, 404))
def current_alerts(hall: str) -> dict[str, Any]:
    check_hall_code(hall)
    return alerts.current_alerts(runtime().database, hall, now())


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest("日期格式应为 YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY or len(text) != 10:
        raise BadRequest("日期超出范围")
    return day
