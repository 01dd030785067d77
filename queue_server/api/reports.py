"""The manager's daily report: JSON, or the same figures as an Excel workbook or a CSV file."""

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
    wait_p50_min = Float(required=True, allow_none=True)
    wait_p90_min = Float(required=True, allow_none=True)
    service_avg_min = Float(required=True, allow_none=True)


class WindowRow(Schema):
    number = Integer(required=True)
    name = String(required=True)
    served = Integer(required=True)
    busy_min = Float(required=True)
    busy_share = Float(required=True, allow_none=True)


class RatingsOut(Schema):
    count = Integer(required=True)
    good_share = Float(required=True, allow_none=True, metadata={"description": "levels 4–5 / count"})
    bad = Integer(required=True)
    average = Float(required=True, allow_none=True)
    by_level = Dict(keys=String(), values=Integer(), required=True)


class DailyReport(Schema):
    hall = String(required=True)
    hall_name = String(required=True)
    date = String(required=True)
    opening_hours = String(required=True)
    bundles = List(Nested(BundleRow), required=True)
    windows = List(Nested(WindowRow), required=True)
    ratings = Nested(RatingsOut, required=True)


@bp.get("/halls/<hall>/reports/daily")
@bp.auth_required(auth, roles=["manager"])
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(DailyReport)
@bp.doc(summary="Daily report (manager): per bundle, per window, ratings; JSON, xlsx or csv",
        description="Waits are called_at − taken_at in minutes, p50/p90 by linear interpolation; "
        "busy_share is served time over the hall's opening hours. format=xlsx gives a workbook "
        "(a sheet per section), format=csv UTF-8 with a BOM, the sections one after another.",
        responses=cast(Any, {**responses(401, 403, 404),
                             200: {"description": "the report", "content": {XLSX: FILE, CSV: FILE}}}))
def daily(hall: str, query: dict[str, Any]) -> Any:
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
        day = query["date"] or today(h, now())
    report = svc.daily_report(rt.database, hall, day)
    if query["format"] == "json":
        return report
    if query["format"] == "xlsx":
        body, mimetype = svc.to_xlsx(report), XLSX
    else:
        body, mimetype = svc.to_csv(report), f"{CSV}; charset=utf-8"
    name = svc.filename(report, query["format"])
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
