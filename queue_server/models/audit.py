"""The audit log: who did what, when, to what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    actor: Mapped[str] = mapped_column(String(80))  # "staff:manager", "device:3", "cli"
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON
