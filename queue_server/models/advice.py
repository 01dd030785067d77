"""Allocation advice given to a manager, kept so the next day can show whether it was right."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AllocationAdvice(Base):
    """One advice: predicted waits per bundle under the allocation then and under the proposed one."""

    __tablename__ = "allocation_advice"
    __table_args__ = (Index("ix_allocation_advice_hall_day", "hall_id", "service_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    service_day: Mapped[date]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))  # "staff:manager"
    horizon_end: Mapped[datetime]  # the prediction covers created_at … horizon_end
    hall_p90_current: Mapped[float | None]
    hall_p90_advised: Mapped[float | None]
    # JSON {code: {expected, current_p50, current_p90, advised_p50, advised_p90}}
    predicted: Mapped[str] = mapped_column(Text)
    current_allocation: Mapped[str] = mapped_column(Text)  # JSON [{number, name, bundles: [{code, rank}]}]
    proposed_allocation: Mapped[str] = mapped_column(Text)  # JSON, the same shape
