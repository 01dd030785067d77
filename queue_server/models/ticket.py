"""Tickets, their per-day counters and history, and appointments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .catalogue import Bundle


class TicketCounter(Base):
    """The last sequence issued per hall, bundle and service day; its row settles numbering races."""

    __tablename__ = "ticket_counter"
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"), primary_key=True)
    service_day: Mapped[date] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        # The number (prefix + seq) is unique per hall and day; it stays with a ticket transferred
        # to another bundle, so the constraint is on the number, not on (bundle, seq).
        UniqueConstraint("hall_id", "service_day", "number"),
        UniqueConstraint("hall_id", "idempotency_key"),
        Index("ix_ticket_hall_day_status", "hall_id", "service_day", "status"),
        Index("ix_ticket_window_status", "window_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"))
    service_day: Mapped[date]
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(20), default="none")
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    source: Mapped[str] = mapped_column(String(20), default="kiosk")  # kiosk | staff | appointment
    taken_at: Mapped[datetime]
    queue_at: Mapped[datetime]  # place in line: taken_at, kept on transfer, moved on requeue
    due_at: Mapped[datetime | None]  # appointment slot start
    called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))  # called to / served at
    for_window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))  # transferred to
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # clerk who served
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    requeue_count: Mapped[int] = mapped_column(Integer, default=0)
    transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    track_token: Mapped[str] = mapped_column(String(40), unique=True)
    identity_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash, never the ID number
    quoted_wait_min: Mapped[int | None] = mapped_column(Integer)
    quoted_people_ahead: Mapped[int | None] = mapped_column(Integer)
    # the range quoted with the wait (services/quotes.py); None when withheld or no window was open
    quoted_range_lo: Mapped[int | None] = mapped_column(Integer)
    quoted_range_hi: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    bundle: Mapped[Bundle] = relationship()


class TicketEvent(Base):
    """One step in a ticket's life (issued, called, recalled, …): the history reports are made from."""

    __tablename__ = "ticket_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    detail: Mapped[str | None] = mapped_column(Text)


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_hall_slot", "hall_id", "slot_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="booked")
    identity_hash: Mapped[str] = mapped_column(String(64))
    masked_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    checked_in_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
