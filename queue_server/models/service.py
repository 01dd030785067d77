"""好差评 with its 差评 follow-up, applications (一表申请 → 统一出件), the SMS outbox, hall service settings.

No row here holds an ID number: applicants are kept as a keyed hash plus a masked name, and an
evaluation keeps no trace of who gave it (GB/T 39734 §4.1: the evaluator's information is protected).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .catalogue import Bundle

FOLLOWUP_DAYS_DEFAULT = 5  # 德州: 整改反馈 within 5 working days (evaluation.md)
FOLLOWUP_DAYS_MAX = 15  # 四川: 差评 rectified within 15 working days


# Hall policy settings: (default, lowest, highest). The defaults are the values every hall had before
# halls got their own settings; the bounds keep a typo from closing booking or flooding alerts.
POLICY: dict[str, tuple[int, int, int]] = {
    "walk_in_percent": (30, 0, 90),  # share of each slot's capacity kept for walk-ins, in %
    "grace_min": (10, 0, 60),  # minutes after the slot start a booking may still check in
    "per_person_limit": (2, 1, 10),  # open bookings one person may hold
    "days_ahead": (7, 1, 60),  # booking horizon: today and this many days ahead
    "surge_waiting": (20, 1, 999),  # 办件激增预警: people waiting for one bundle
    "surge_wait_min": (45, 1, 600),  # 办件激增预警: longest wait in minutes
    # 1: a bundle stops issuing numbers when a new one could not be served before closing time
    "closing_guard": (1, 0, 1),
}


class HallServiceSetting(Base):
    """Per-hall settings (follow-up, appointments, surge alert); a hall without a row has the defaults."""

    __tablename__ = "hall_service_setting"
    __table_args__ = (
        CheckConstraint(f"followup_days BETWEEN 1 AND {FOLLOWUP_DAYS_MAX}", name="followup_days"),
        *(CheckConstraint(f"{key} BETWEEN {low} AND {high}", name=key)
          for key, (_, low, high) in POLICY.items()),
    )
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id", ondelete="CASCADE"), primary_key=True)
    followup_days: Mapped[int] = mapped_column(Integer, default=FOLLOWUP_DAYS_DEFAULT)  # working days
    # appointments (services/appointments.py) and the surge alert (services/alerts.py); bounds in POLICY
    walk_in_percent: Mapped[int] = mapped_column(Integer, default=POLICY["walk_in_percent"][0],
                                                 server_default=str(POLICY["walk_in_percent"][0]))
    grace_min: Mapped[int] = mapped_column(Integer, default=POLICY["grace_min"][0],
                                           server_default=str(POLICY["grace_min"][0]))
    per_person_limit: Mapped[int] = mapped_column(Integer, default=POLICY["per_person_limit"][0],
                                                  server_default=str(POLICY["per_person_limit"][0]))
    days_ahead: Mapped[int] = mapped_column(Integer, default=POLICY["days_ahead"][0],
                                            server_default=str(POLICY["days_ahead"][0]))
    surge_waiting: Mapped[int] = mapped_column(Integer, default=POLICY["surge_waiting"][0],
                                               server_default=str(POLICY["surge_waiting"][0]))
    surge_wait_min: Mapped[int] = mapped_column(Integer, default=POLICY["surge_wait_min"][0],
                                                server_default=str(POLICY["surge_wait_min"][0]))
    closing_guard: Mapped[int] = mapped_column(Integer, default=POLICY["closing_guard"][0],
                                               server_default=str(POLICY["closing_guard"][0]))


class SurgeThreshold(Base):
    """A bundle's own surge thresholds in a hall; None (or no row) means the hall-wide default."""

    __tablename__ = "surge_threshold"
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id", ondelete="CASCADE"), primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), primary_key=True)
    waiting: Mapped[int | None] = mapped_column(Integer)
    wait_min: Mapped[int | None] = mapped_column(Integer)


class HallDay(Base):
    """A calendar exception of a hall: closed on a weekday (法定节假日) or open on a weekend (调休上班)."""

    __tablename__ = "hall_day"
    __table_args__ = (CheckConstraint("kind IN ('closed', 'working')", name="kind"),)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # closed | working
    note: Mapped[str | None] = mapped_column(String(60))  # 国庆节, 春节调休上班 …


class ApplicationCounter(Base):
    """The last application sequence per hall and service day; its row settles numbering races."""

    __tablename__ = "application_counter"
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), primary_key=True)
    service_day: Mapped[date] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Application(Base):
    """One 一表申请 of a bundle: received → in_review → decided → result_ready → delivered."""

    __tablename__ = "application"
    __table_args__ = (
        UniqueConstraint("hall_id", "number"),
        Index("ix_application_hall_status", "hall_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"))
    service_day: Mapped[date]
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(20))  # SQ20261123-0001
    status: Mapped[str] = mapped_column(String(20), default="received")
    id_hash: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash, never the ID number
    masked_name: Mapped[str] = mapped_column(String(40))
    form: Mapped[str] = mapped_column(Text)  # JSON {key: value}; ID numbers only masked
    id_hashes: Mapped[str | None] = mapped_column(Text)  # JSON {key: keyed hash} of ID-number fields
    delivery: Mapped[str] = mapped_column(String(10))  # window | post
    address: Mapped[str | None] = mapped_column(String(200))  # post only
    phone: Mapped[str | None] = mapped_column(String(20))  # for the result notice
    tracking_number: Mapped[str | None] = mapped_column(String(40))  # post only
    promised_by: Mapped[date | None]  # None when the bundle promises no time limit
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(10))  # kiosk | staff
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who received it
    bundle: Mapped[Bundle] = relationship()
    steps: Mapped[list[ApplicationStep]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationStep.id")


class ApplicationStep(Base):
    """When an application reached a status, who moved it there, and a note."""

    __tablename__ = "application_step"
    __table_args__ = (UniqueConstraint("application_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """A notice waiting for a gateway (SMS) to send it; the gateway sets `sent_at`."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    channel: Mapped[str] = mapped_column(String(10))  # sms
    phone: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(60))  # application:<number>
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)


class Evaluation(Base):
    """One rating (好差评) of one finished ticket or one application; nothing about who gave it."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("ticket_id"),  # 一次一评: each ticket once
        UniqueConstraint("application_id"),  # 一事一评: each application once
        CheckConstraint("(ticket_id IS NULL) <> (application_id IS NULL)", name="one_subject"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level"),
        Index("ix_evaluation_hall_rated_at", "hall_id", "rated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # the clerk rated
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    reasons: Mapped[str | None] = mapped_column(String(200))  # reason codes, comma-separated
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10))  # pad | kiosk | phone
    rated_at: Mapped[datetime]


class Followup(Base):
    """The follow-up case a 差评 opens: 核实 → 整改 → 回访 → 办结, due a number of working days on."""

    __tablename__ = "followup"
    __table_args__ = (
        UniqueConstraint("evaluation_id"),
        Index("ix_followup_hall_state", "hall_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"))
    opened_at: Mapped[datetime]
    due_on: Mapped[date]  # the last working day (hall-local) to close it
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    closed_at: Mapped[datetime | None]
    evaluation: Mapped[Evaluation] = relationship()
    steps: Mapped[list[FollowupStep]] = relationship(
        cascade="all, delete-orphan", order_by="FollowupStep.id")


class FollowupStep(Base):
    __tablename__ = "followup_step"
    __table_args__ = (UniqueConstraint("followup_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followup.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(10))  # verify | rectify | callback | close
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text)
