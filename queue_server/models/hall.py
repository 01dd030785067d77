"""Halls, their windows, and which bundles each window serves (allocation, with rank)."""

from __future__ import annotations

from datetime import time

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .catalogue import Bundle

WINDOW_KINDS = ("综合受理", "专窗", "帮办代办", "绿色通道", "办不成事反映")


class Hall(Base):
    __tablename__ = "hall"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    opens: Mapped[time] = mapped_column(Time, default=time(9, 0))
    closes: Mapped[time] = mapped_column(Time, default=time(17, 0))
    notice: Mapped[str | None] = mapped_column(Text)
    recall_limit: Mapped[int] = mapped_column(Integer, default=3)
    requeue_places: Mapped[int] = mapped_column(Integer, default=3)
    elderly_age: Mapped[int] = mapped_column(Integer, default=60)
    windows: Mapped[list[Window]] = relationship(order_by="Window.number", back_populates="hall")


class Window(Base):
    __tablename__ = "window"
    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # one of WINDOW_KINDS
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    hall: Mapped[Hall] = relationship(back_populates="windows")
    allocations: Mapped[list[Allocation]] = relationship(
        cascade="all, delete-orphan", order_by="Allocation.rank")


class Allocation(Base):
    """Window serves bundle at rank (1 = primary)."""

    __tablename__ = "allocation"
    window_id: Mapped[int] = mapped_column(
        ForeignKey("window.id", ondelete="CASCADE"), primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, default=1)
    bundle: Mapped[Bundle] = relationship()
