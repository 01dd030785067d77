"""好差评: citizens rate (no login: the ticket's track token or the applicant's identity token is the
credential); the manager follows up 差评 cases. Clerks never see evaluations here."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Date, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError, validates_schema

from .. import identity_tokens
from ..auth import auth, check_hall, check_hall_code, current
from ..models.service import FOLLOWUP_DAYS_MAX
from ..runtime import runtime
from ..services import evaluations as svc
from .common import now, responses

bp = APIBlueprint("evaluations", __name__, url_prefix="/api/v1", tag="Evaluations")
MANAGER = ["manager"]
NO_NUL = Regexp(r"^[^\x00]*$", error="不能包含空字符")  # PostgreSQL text cannot hold NUL


class LevelOut(Schema):
    level = Integer(required=True)
    label = String(required=True)
    bad = Boolean(required=True)
    good = Boolean(required=True)
    reasons_required = Boolean(required=True)


class ReasonOut(Schema):
    code = String(required=True)
    label = String(required=True)


class ReasonsOut(Schema):
    levels = List(Nested(LevelOut), required=True)
    reasons = List(Nested(ReasonOut), required=True)
    channels = List(String(), required=True)


class EvaluationIn(Schema):
    ticket = String(validate=[Length(1, 64), NO_NUL], metadata={"description": "the ticket's track token"})
    application = String(validate=[Length(1, 30), NO_NUL], metadata={"description": "application number"})
    identity_token = String(validate=[Length(1, 500)],
                            metadata={"description": "the applicant's identity token (with application)"})
    level = Integer(required=True, validate=[Range(1, 5)],
                    metadata={"description": "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"})
    reasons = List(String(validate=[OneOf(list(svc.REASONS))]), load_default=list,
                   validate=[Length(0, len(svc.REASONS))],
                   metadata={"description": "差评 reason codes; at least one for levels 1–2, none above"})
    comment = String(load_default=None, allow_none=True, validate=[Length(0, 500), NO_NUL])
    channel = String(required=True, validate=[OneOf(list(svc.CHANNELS))])

    @validates_schema
    def _one_subject(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("ticket" in data) == ("application" in data):
            raise ValidationError("请指定评价的号票(ticket)或申请(application)，二选一", "ticket")
        if "application" in data and "identity_token" not in data:
            raise ValidationError("评价申请需要申请人的身份核验", "identity_token")


class RatedOut(Schema):
    id = Integer(required=True)
    level = Integer(required=True)
    label = String(required=True)
    reasons = List(Nested(ReasonOut), required=True)
    channel = String(required=True)
    rated_at = String(required=True)
    followup_opened = Boolean(required=True)


class StaffRefOut(Schema):
    username = String(required=True)
    name = String(required=True)


class EvaluationOut(Schema):
    """An evaluation as the manager sees it: whose service, never who rated."""

    id = Integer(required=True)
    level = Integer(required=True)
    label = String(required=True)
    reasons = List(Nested(ReasonOut), required=True)
    comment = String(allow_none=True)
    channel = String(required=True)
    rated_at = String(required=True)
    subject = String(required=True, metadata={"description": "ticket or application"})
    bundle = String(required=True)
    bundle_name = String(required=True)
    window = Integer(allow_none=True)
    staff = Nested(StaffRefOut, allow_none=True)


class EvaluationList(Schema):
    evaluations = List(Nested(EvaluationOut), required=True)


class EvaluationQuery(Schema):
    date = Date(load_default=None, validate=[Range(svc.FIRST_DAY, svc.LAST_DAY)])
    level = Integer(load_default=None, validate=[Range(1, 5)])


class StepOut(Schema):
    step = String(required=True)
    label = String(required=True)
    at = String(required=True)
    actor = String(required=True)
    note = String(required=True)


class FollowupOut(Schema):
    id = Integer(required=True)
    state = String(required=True, metadata={"description": "open or closed"})
    overdue = Boolean(required=True)
    opened_at = String(required=True)
    due_on = String(required=True)
    closed_at = String(allow_none=True)
    closed_late = Boolean(required=True)
    next_step = String(allow_none=True)
    evaluation = Nested(EvaluationOut, required=True)
    steps = List(Nested(StepOut), required=True)


class FollowupItem(FollowupOut):
    """FollowupOut nested in another schema (apispec names each class once)."""


class FollowupList(Schema):
    followups = List(Nested(FollowupItem), required=True)


class FollowupQuery(Schema):
    state = String(load_default=None, validate=[OneOf(list(svc.STATES))],
                   metadata={"description": "open (overdue included), overdue, closed; all if absent"})


class StepIn(Schema):
    step = String(required=True, validate=[OneOf(list(svc.STEPS))],
                  metadata={"description": "verify 核实 → rectify 整改 → callback 回访 → close 办结"})
    note = String(required=True, validate=[Length(1, 1000), NO_NUL, Regexp(r"\S", error="请填写说明")])


class SettingsIO(Schema):
    followup_days = Integer(required=True, validate=[Range(1, FOLLOWUP_DAYS_MAX)],
                            metadata={"description": "working days (Mon–Fri) to close a 差评 case"})


@bp.get("/evaluations/reasons")
@bp.output(ReasonsOut)
@bp.doc(summary="The five levels and the 差评 reasons, for the rating UI", responses=responses())
def reasons() -> dict[str, Any]:
    return svc.catalogue()


@bp.post("/evaluations")
@bp.input(EvaluationIn, arg_name="body")
@bp.output(RatedOut, status_code=201)
@bp.doc(summary="Rate a finished ticket or an application (好差评), once",
        description="No login: the ticket's track token, or the application number with the "
        "applicant's identity token, is the credential. Nothing about the rater is stored. Levels "
        "1–2 need at least one reason (and a comment with 'other') and open a follow-up case. "
        "409 already_rated or not_rateable (the ticket is not finished).",
        responses=responses(400, 404, 409))
def rate(body: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    rating = svc.Rating(level=body["level"], reasons=tuple(body["reasons"]), comment=body["comment"],
                        channel=body["channel"])
    if "ticket" in body:
        rated = svc.rate_ticket(rt.database, body["ticket"], rating, now())
    else:
        person = identity_tokens.verify(rt.settings.secret_key, body["identity_token"])
        rated = svc.rate_application(rt.database, body["application"], person.id_hash, rating, now())
    return rated.to_json()


@bp.get("/halls/<hall>/evaluations")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(EvaluationQuery, location="query", arg_name="query")
@bp.output(EvaluationList)
@bp.doc(summary="The hall's evaluations (manager): whose service was rated, never who rated",
        responses=responses(401, 403, 404))
def list_evaluations(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    return {"evaluations": svc.list_evaluations(runtime().database, hall, query["date"], query["level"])}


@bp.get("/halls/<hall>/followups")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(FollowupQuery, location="query", arg_name="query")
@bp.output(FollowupList)
@bp.doc(summary="差评 follow-up cases of the hall (manager), earliest deadline first",
        responses=responses(401, 403, 404))
def followups(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    return {"followups": svc.list_followups(runtime().database, hall, query["state"], now())}


@bp.post("/followups/<int(max=2147483647):followup_id>/steps")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(StepIn, arg_name="body")
@bp.output(FollowupOut)
@bp.doc(summary="Record the next follow-up step (manager): verify → rectify → callback → close",
        description="Steps go in order; any other step is 409 followup_out_of_order. Audit-logged.",
        responses=responses(401, 403, 404, 409))
def add_step(followup_id: int, body: dict[str, Any]) -> dict[str, Any]:
    who = current()
    return svc.add_step(runtime().database, followup_id, body["step"], body["note"], now(),
                        actor=who.actor, authorize=lambda hall_id: check_hall(who, hall_id))


@bp.get("/halls/<hall>/followup-settings")
@bp.auth_required(auth, roles=MANAGER)
@bp.output(SettingsIO)
@bp.doc(summary="The hall's 差评 follow-up deadline in working days (manager)",
        responses=responses(401, 403, 404))
def get_settings(hall: str) -> dict[str, Any]:
    check_hall_code(hall)
    return {"followup_days": svc.get_followup_days(runtime().database, hall)}


@bp.put("/halls/<hall>/followup-settings")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(SettingsIO, arg_name="body")
@bp.output(SettingsIO)
@bp.doc(summary="Set the 差评 follow-up deadline (1–15 working days; new cases only; manager)",
        responses=responses(400, 401, 403, 404))
def put_settings(hall: str, body: dict[str, Any]) -> dict[str, Any]:
    check_hall_code(hall)
    days = svc.set_followup_days(runtime().database, hall, body["followup_days"], now(), current().actor)
    return {"followup_days": days}
