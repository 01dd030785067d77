"""帮办代办 requests: a citizen (or a kiosk for them) asks for a helper; staff claim, progress, close.

The contact phone is kept three ways, none of them readable from a public page: a masked form
(138****5678) for screens, a keyed hash (HMAC, like ID numbers) to count open requests per phone, and
an encrypted copy (Fernet under the server's key) that staff may read to call the citizen back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

KINDS = ("help", "proxy")  # 帮办 (a helper comes to the citizen) | 代办 (staff carry the matter through)
REASONS = ("elderly", "disabled", "other")
STATUSES = ("open", "claimed", "in_progress", "done", "cancelled")


class AssistRequest(Base):
    """One request for 帮办代办: open → claimed → in_progress → done | cancelled."""

    __tablename__ = "assist_request"
    __table_args__ = (
        CheckConstraint("kind IN ('help', 'proxy')", name="kind"),
        CheckConstraint("status IN ('open', 'claimed', 'in_progress', 'done', 'cancelled')",
                        name="status"),
        Index("ix_assist_request_hall_status", "hall_id", "status"),
        Index("ix_assist_request_hall_created_at", "hall_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    kind: Mapped[str] = mapped_column(String(10))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundle.id"))  # None: not sure which
    location: Mapped[str] = mapped_column(String(100))  # 24小时自助区 3号终端, 等候区 B 排…
    reason: Mapped[str] = mapped_column(String(10))  # elderly | disabled | other
    note: Mapped[str | None] = mapped_column(String(200))  # the citizen's words, staff only
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_cipher: Mapped[str | None] = mapped_column(String(200))
    masked_name: Mapped[str | None] = mapped_column(String(40))
    id_hash: Mapped[str | None] = mapped_column(String(64))  # when identified at a kiosk
    status: Mapped[str] = mapped_column(String(12), default="open")
    follow_token: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # kiosk | staff | phone
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]  # the first claim: the citizen's wait ends here
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who handles it now
    started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    steps: Mapped[list[AssistStep]] = relationship(
        cascade="all, delete-orphan", order_by="AssistStep.id")


class AssistStep(Base):
    """One step of a request: filed, claimed, a progress note, released, done, cancelled."""

    __tablename__ = "assist_step"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("assist_request.id", ondelete="CASCADE"),
                                            index=True)
    action: Mapped[str] = mapped_column(String(12))  # open | claim | progress | release | done | cancel
    at: Mapped[datetime]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
