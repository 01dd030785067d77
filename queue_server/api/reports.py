"""The manager's reports for a day, week or month: JSON, or the same figures as Excel or CSV.

`reports/daily?date=` is DESIGN.md's contract; `reports/weekly?date=` and `reports/monthly?date=` take
any day of the week (Monday–Sunday) or month and answer the same shape over all its days.
"""

from __future__ import annotations

from typing import Any, cast

from apiflask import APIBlueprint, Schema
from apiflask.fields import Date, Dict, Float, Integer, List, Nested, String
from apiflask.validators import OneOf, Range
from flask import Response

from ..auth import auth, check_hall, current
from ..runtime import runtime
from ..services import reports as svc
from ..services.common import hall_by_code, today
from ..services.evaluations import FIRST_DAY, LAST_DAY
from .common import now, responses

bp = APIBlueprint("reports", __name__, url_prefix="/api/v1", tag="Reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
FILE = {"schema": {"type": "string", "format": "binary"}}


class ReportQuery(Schema):
    date = Date(load_default=None, validate=[Range(FIRST_DAY, LAST_DAY)],
                metadata={"description": "YYYY-MM-DD, the hall's service day; today if absent"})
    format = String(load_default="json", validate=[OneOf(["json", "xlsx", "csv"])])


class BundleRow(Schema):
    code = String(required=True)
    name = String(required=True)
    prefix = String(required=True)
    issued = Integer(required=True)
    served = Integer(required=True)
    no_show = Integer(required=True)
    no_show_rate = Float(required=True, allow_none=True, metadata={"description": "no_show / issued"})
    wait_p50_min = Float(required=True, allow_none=True)
    wait_p90_min = Float(required=True, allow_none=True)
    service_avg_min = Float(required=True, allow_none=True)


class WindowRow(Schema):
    number = Integer(required=True)
    name = String(required=True)
    called = Integer(required=True)
    served = Integer(required=True)
    busy_min = Float(required=True)
    busy_share = Float(required=True, allow_none=True)


class RatingsOut(Schema):
    count = Integer(required=True)
    good_share = Float(required=True, allow_none=True, metadata={"description": "levels 4–5 / count"})
    bad = Integer(required=True)
    average = Float(required=True, allow_none=True)
    by_level = Dict(keys=String(), values=Integer(), required=True)


class HourRow(Schema):
    hour = Integer(required=True)
    label = String(required=True)
    issued = Integer(required=True)
    called = Integer(required=True)
    served = Integer(required=True)


class AppointmentFigures(Schema):
    booked = Integer(required=True, metadata={"description": "slots in the period, not cancelled"})
    kept = Integer(required=True)
    late = Integer(required=True)
    missed = Integer(required=True)
    cancelled = Integer(required=True)
    pending = Integer(required=True)
    kept_share = Float(required=True, allow_none=True, metadata={"description": "kept / (kept + missed)"})


class RatedRow(Schema):
    number = Integer()
    code = String()
    username = String()
    name = String(required=True)
    prefix = String()
    count = Integer(required=True)
    good = Integer(required=True)
    bad = Integer(required=True)
    good_share = Float(required=True, allow_none=True)


class RatingsBy(Schema):
    windows = List(Nested(RatedRow), required=True)
    bundles = List(Nested(RatedRow), required=True)
    clerks = List(Nested(RatedRow), required=True)


class OneThingRow(Schema):
    code = String()
    name = String()
    prefix = String()
    served = Integer(required=True)
    kiosk = Integer(required=True)
    staff_applications = Integer(required=True)
    self_service_share = Float(required=True, allow_none=True)
    cases = Integer(required=True)
    visits_before = Integer(allow_none=True)
    visits_after = Integer(allow_none=True)
    visits_saved = Integer(required=True, allow_none=True)
    materials_before = Integer(allow_none=True)
    materials_now = Integer()
    materials_saved = Integer(required=True, allow_none=True)
    identity_filled = Integer(required=True)
    form_fields = Integer(required=True)
    identity_share = Float(required=True, allow_none=True)


class OneThing(Schema):
    bundles = List(Nested(OneThingRow), required=True)
    total = Nested(OneThingRow, required=True)


class PeriodReport(Schema):
    hall = String(required=True)
    hall_name = String(required=True)
    period = String(required=True, metadata={"description": "daily | weekly | monthly"})
    title = String(required=True)
    date = String(required=True, metadata={"description": "the day (daily) or the period's first day"})
    start = String(required=True)
    end = String(required=True)
    open_days = Integer(required=True)
    opening_hours = String(required=True)
    bundles = List(Nested(BundleRow), required=True)
    windows = List(Nested(WindowRow), required=True)
    ratings = Nested(RatingsOut, required=True)
    hours = List(Nested(HourRow), required=True)
    appointments = Nested(AppointmentFigures, required=True)
    ratings_by = Nested(RatingsBy, required=True)
    one_thing = Nested(OneThing, required=True)
    assist = Dict(required=True, metadata={"description": "帮办代办 figures (services/assist.py)"})


# JSON by default; format=xlsx or csv answers a file
REPORT_RESPONSES = cast(Any, {**responses(401, 403, 404),
                              200: {"description": "the report", "content": {XLSX: FILE, CSV: FILE}}})


@bp.get("/halls/<hall>/reports/daily")
@bp.auth_required(auth, roles=["manager"])
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(PeriodReport)
@bp.doc(summary="Daily report (manager): per bundle, per window, ratings; JSON, xlsx or csv",
        description="Waits are called_at − taken_at in minutes, p50/p90 by linear interpolation; "
        "busy_share is served time over the hall's opening hours. format=xlsx gives a workbook "
        "(a sheet per section), format=csv UTF-8 with a BOM, the sections one after another.",
        responses=REPORT_RESPONSES)
def daily(hall: str, query: dict[str, Any]) -> Any:
    return _report(hall, "daily", query)


@bp.get("/halls/<hall>/reports/weekly")
@bp.auth_required(auth, roles=["manager"])
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(PeriodReport)
@bp.doc(summary="Weekly report (manager): Monday–Sunday around `date`; the daily report's shape",
        description="busy_share is over the hall's working days of the week (its holiday calendar).",
        responses=REPORT_RESPONSES)
def weekly(hall: str, query: dict[str, Any]) -> Any:
    return _report(hall, "weekly", query)


@bp.get("/halls/<hall>/reports/monthly")
@bp.auth_required(auth, roles=["manager"])
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(PeriodReport)
@bp.doc(summary="Monthly report (manager): the calendar month of `date`; the daily report's shape",
        responses=REPORT_RESPONSES)
def monthly(hall: str, query: dict[str, Any]) -> Any:
    return _report(hall, "monthly", query)


def _report(hall: str, period: str, query: dict[str, Any]) -> Any:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
        day = query["date"] or today(h, now())
    report = svc.period_report(rt.database, hall, period, day, now())
    if query["format"] == "json":
        return report
    if query["format"] == "xlsx":
        body, mimetype = svc.to_xlsx(report), XLSX
    else:
        body, mimetype = svc.to_csv(report), f"{CSV}; charset=utf-8"
    name = svc.filename(report, query["format"])
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
