"""好差评: rate a finished ticket or an application once; a 差评 opens a follow-up case for the manager.

Five national levels (evaluation.md): 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意; levels 1–2
are 差评 and need at least one reason from the 差评 list. An evaluation links to the ticket, bundle,
window and clerk, but keeps nothing about who rated (GB/T 39734 §4.1): no identity, no device.
Follow-up (谁办理、谁负责; 核实 → 整改 → 回访 → 办结) is due a hall-set number of working days after
the rating (default 5, at most 15; see `working_days_after` for the holiday limitation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Bundle, Hall, Staff, Ticket, Window
from ..models.service import (
    FOLLOWUP_DAYS_DEFAULT,
    FOLLOWUP_DAYS_MAX,
    Evaluation,
    Followup,
    FollowupStep,
    HallServiceSetting,
)
from ..queue.calling import Status
from ..queue.errors import BadRequest, Conflict, NotFound
from .applications import for_person, working_days_after
from .common import audit, hall_by_code, today

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS = (1, 2)  # 差评
GOOD_LEVELS = (4, 5)  # 好评 (the usual reading; 3 is neither)
# 差评 reasons (GB/T 39734 Annex A wording not found; these follow the offline indicators
# 服务效率, 服务水平, 服务态度 and the hall's own rules: 一次告知, 限时办结).
REASONS = {
    "long_wait": "等候时间过长",
    "attitude": "服务态度不好",
    "unclear_notice": "一次告知不清楚/材料反复要求",
    "over_time": "办理时间超出承诺",
    "too_many_steps": "办事流程繁琐/跑动次数多",
    "not_done": "事情没有办成",
    "system_fault": "系统或设备故障",
    "other": "其他",
}
CHANNELS = ("pad", "kiosk", "phone")
STEPS = ("verify", "rectify", "callback", "close")
STEP_LABELS = {"verify": "核实", "rectify": "整改", "callback": "回访", "close": "办结"}
STATES = ("open", "overdue", "closed")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)  # days a query may name


class AlreadyRated(Conflict):
    code = "already_rated"


class NotRateable(Conflict):
    code = "not_rateable"


class ReasonsRequired(BadRequest):
    code = "reasons_required"


class ReasonsNotAllowed(BadRequest):
    code = "reasons_not_allowed"


class CommentRequired(BadRequest):
    code = "comment_required"


class FollowupOutOfOrder(Conflict):
    code = "followup_out_of_order"


# --- pure rules -------------------------------------------------------------------------------

def check_rating(level: int, reasons: Sequence[str], comment: str | None) -> tuple[str, ...]:
    """The reasons to keep (deduplicated, in list order), or a refusal naming what is missing."""
    if level not in LEVELS:
        raise BadRequest("评价等级应为1到5")
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise BadRequest(f"未知的差评原因：{', '.join(unknown)}")
    if level not in BAD_LEVELS:
        if reasons:
            raise ReasonsNotAllowed("只有“不满意”“非常不满意”需要选择原因")
        return ()
    if not reasons:
        raise ReasonsRequired("差评请至少选择一项原因")
    if "other" in reasons and not (comment and comment.strip()):
        raise CommentRequired("选择“其他”时请简要说明原因")
    return tuple(r for r in REASONS if r in reasons)


def next_step(done: Sequence[str]) -> str | None:
    """The step a follow-up takes next (they go in order), None once closed."""
    return STEPS[len(done)] if len(done) < len(STEPS) else None


def is_overdue(state: str, due_on: date, day: date) -> bool:
    return state == "open" and day > due_on


def day_bounds(hall: Hall, day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the hall-local `day` starts and the next one starts."""
    zone = ZoneInfo(hall.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def catalogue() -> dict[str, Any]:
    """Levels and 差评 reasons for the rating UI."""
    return {
        "levels": [{"level": lv, "label": label, "bad": lv in BAD_LEVELS, "good": lv in GOOD_LEVELS,
                    "reasons_required": lv in BAD_LEVELS} for lv, label in LEVELS.items()],
        "reasons": [{"code": code, "label": label} for code, label in REASONS.items()],
        "channels": list(CHANNELS),
    }


# --- settings ---------------------------------------------------------------------------------

def followup_days(db: Session, hall: Hall) -> int:
    row = db.get(HallServiceSetting, hall.id)
    return row.followup_days if row is not None else FOLLOWUP_DAYS_DEFAULT


def set_followup_days(database: Database, hall_code: str, days: int, now: datetime, actor: str) -> int:
    """Change the hall's follow-up deadline (new cases only); audit-logged."""
    if not 1 <= days <= FOLLOWUP_DAYS_MAX:
        raise BadRequest(f"整改期限应为1到{FOLLOWUP_DAYS_MAX}个工作日")
    with database.write() as db:
        hall = hall_by_code(db, hall_code)
        row = db.get(HallServiceSetting, hall.id)
        before = row.followup_days if row is not None else FOLLOWUP_DAYS_DEFAULT
        if row is None:
            db.add(HallServiceSetting(hall_id=hall.id, followup_days=days))
        else:
            row.followup_days = days
        audit(db, now, actor, "followup.settings", hall.id, target=f"hall:{hall.code}",
              followup_days=days, before=before)
        return days


def get_followup_days(database: Database, hall_code: str) -> int:
    with database.read() as db:
        return followup_days(db, hall_by_code(db, hall_code))


# --- rating -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Rating:
    level: int
    reasons: Sequence[str] = ()
    comment: str | None = None
    channel: str = "kiosk"


@dataclass(frozen=True, slots=True)
class Rated:
    id: int
    level: int
    reasons: tuple[str, ...]
    channel: str
    rated_at: datetime
    followup_due_on: date | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "label": LEVELS[self.level],
                "reasons": [{"code": r, "label": REASONS[r]} for r in self.reasons],
                "channel": self.channel, "rated_at": self.rated_at.isoformat(),
                "followup_opened": self.followup_due_on is not None}


def _record(db: Session, hall: Hall, rating: Rating, reasons: tuple[str, ...], now: datetime,
            **subject: int | None) -> Rated:
    ev = Evaluation(hall_id=hall.id, level=rating.level, reasons=",".join(reasons) or None,
                    comment=(rating.comment or "").strip() or None, channel=rating.channel,
                    rated_at=now, **subject)
    db.add(ev)
    db.flush()
    due = None
    if rating.level in BAD_LEVELS:
        due = working_days_after(today(hall, now), followup_days(db, hall))
        db.add(Followup(hall_id=hall.id, evaluation_id=ev.id, opened_at=now, due_on=due, state="open"))
    return Rated(ev.id, ev.level, reasons, ev.channel, now, due)


def _once(rate: Callable[[], Rated]) -> Rated:
    """The unique constraint settles two ratings racing for one subject."""
    try:
        return rate()
    except IntegrityError:
        raise AlreadyRated("已经评价过，每次服务只能评价一次") from None


def rate_ticket(database: Database, track_token: str, rating: Rating, now: datetime) -> Rated:
    """Rate a finished ticket; its track token (printed on it) is the credential."""
    reasons = check_rating(rating.level, rating.reasons, rating.comment)

    def rate() -> Rated:
        with database.write() as db:
            ticket = None if "\x00" in track_token else db.scalar(
                select(Ticket).where(Ticket.track_token == track_token))
            if ticket is None:
                raise NotFound("没有找到这张号票")
            if ticket.status != Status.DONE.value:
                raise NotRateable("业务办结后才能评价")
            if db.scalar(select(Evaluation.id).where(Evaluation.ticket_id == ticket.id)) is not None:
                raise AlreadyRated("这张号票已经评价过，每次服务只能评价一次")
            hall = db.get_one(Hall, ticket.hall_id)
            return _record(db, hall, rating, reasons, now, ticket_id=ticket.id,
                           bundle_id=ticket.bundle_id, window_id=ticket.window_id,
                           staff_id=ticket.staff_id)

    return _once(rate)


def rate_application(database: Database, number: str, person_hash: str, rating: Rating,
                     now: datetime) -> Rated:
    """Rate one's own application (一事一评); found by number and the applicant's verified identity.

    Any status will do: a kiosk asks for the rating right after submitting (DB2203/T 8-2024 §5.1.3),
    and the applicant may instead rate later, once, e.g. after collecting the result.
    """
    reasons = check_rating(rating.level, rating.reasons, rating.comment)

    def rate() -> Rated:
        with database.write() as db:
            app = for_person(db, number, person_hash)
            if db.scalar(select(Evaluation.id).where(Evaluation.application_id == app.id)) is not None:
                raise AlreadyRated("该申请已经评价过")
            hall = db.get_one(Hall, app.hall_id)
            return _record(db, hall, rating, reasons, now, application_id=app.id,
                           bundle_id=app.bundle_id, staff_id=app.staff_id)

    return _once(rate)


# --- the manager's views ----------------------------------------------------------------------

def _evaluation_json(db: Session, ev: Evaluation) -> dict[str, Any]:
    """An evaluation as the manager sees it: what and whose service, never who rated."""
    bundle = db.get_one(Bundle, ev.bundle_id)
    window = db.get(Window, ev.window_id) if ev.window_id else None
    staff = db.get(Staff, ev.staff_id) if ev.staff_id else None
    reasons = ev.reasons.split(",") if ev.reasons else []
    return {"id": ev.id, "level": ev.level, "label": LEVELS[ev.level],
            "reasons": [{"code": r, "label": REASONS.get(r, r)} for r in reasons],
            "comment": ev.comment, "channel": ev.channel, "rated_at": ev.rated_at.isoformat(),
            "subject": "ticket" if ev.ticket_id else "application",
            "bundle": bundle.code, "bundle_name": bundle.name,
            "window": window.number if window else None,
            "staff": {"username": staff.username, "name": staff.name} if staff else None}


def followup_json(db: Session, f: Followup, hall: Hall, now: datetime) -> dict[str, Any]:
    done = [s.step for s in f.steps]
    day = today(hall, now)
    return {
        "id": f.id, "state": f.state, "overdue": is_overdue(f.state, f.due_on, day),
        "opened_at": f.opened_at.isoformat(), "due_on": f.due_on.isoformat(),
        "closed_at": f.closed_at.isoformat() if f.closed_at else None,
        "closed_late": f.closed_at is not None and today(hall, f.closed_at) > f.due_on,
        "next_step": next_step(done),
        "evaluation": _evaluation_json(db, f.evaluation),
        "steps": [{"step": s.step, "label": STEP_LABELS[s.step], "at": s.at.isoformat(),
                   "actor": s.actor, "note": s.note} for s in f.steps],
    }


def list_followups(database: Database, hall_code: str, state: str | None,
                   now: datetime) -> list[dict[str, Any]]:
    """A hall's follow-ups: `open` (overdue ones included, flagged), `overdue`, `closed`, or all."""
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        day = today(hall, now)
        query = select(Followup).where(Followup.hall_id == hall.id)
        if state in ("open", "overdue"):
            query = query.where(Followup.state == "open")
        if state == "overdue":
            query = query.where(Followup.due_on < day)
        if state == "closed":
            query = query.where(Followup.state == "closed")
        rows = db.scalars(query.order_by(Followup.due_on, Followup.id))
        return [followup_json(db, f, hall, now) for f in rows]


def add_step(database: Database, followup_id: int, step: str, note: str, now: datetime, *,
             actor: str, authorize: Callable[[int], None]) -> dict[str, Any]:
    """Record the next step of a follow-up (409 when out of order); `close` closes it. Audit-logged."""
    with database.write() as db:
        f = db.scalar(select(Followup).where(Followup.id == followup_id).with_for_update())
        if f is None:
            raise NotFound("没有该差评整改记录")
        authorize(f.hall_id)
        expected = next_step([s.step for s in f.steps])
        if step != expected:
            where = f"下一步应为“{STEP_LABELS[expected]}”" if expected else "该记录已办结"
            raise FollowupOutOfOrder(f"不能跳步或重复：{where}")
        f.steps.append(FollowupStep(step=step, at=now, actor=actor, note=note.strip()))
        if step == "close":
            f.state, f.closed_at = "closed", now
        audit(db, now, actor, f"followup.{step}", f.hall_id, target=f"followup:{f.id}")
        db.flush()
        return followup_json(db, f, db.get_one(Hall, f.hall_id), now)


def list_evaluations(database: Database, hall_code: str, day: date | None,
                     level: int | None, limit: int = 500) -> list[dict[str, Any]]:
    """A hall's evaluations, newest first, on one hall-local day and/or of one level."""
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        query = select(Evaluation).where(Evaluation.hall_id == hall.id)
        if level is not None:
            query = query.where(Evaluation.level == level)
        if day is not None:
            start, end = day_bounds(hall, day)
            query = query.where(Evaluation.rated_at >= start, Evaluation.rated_at < end)
        rows = db.scalars(query.order_by(Evaluation.id.desc()).limit(limit))
        return [_evaluation_json(db, ev) for ev in rows]

