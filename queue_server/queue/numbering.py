"""Ticket numbers and service days.

A number is the bundle's prefix letter and a sequence of at least three digits (A012), counted per
hall, bundle and service day. A bundle that issues more than 999 in one day goes on to four digits
(A1000) rather than wrapping, so a number is never given twice in a day.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def format_number(prefix: str, seq: int) -> str:
    """'A' and 12 -> 'A012'."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{prefix}{seq:03d}"


def service_day(now: datetime, timezone: str) -> date:
    """The hall's local calendar day at `now` (an aware datetime); numbering restarts with it."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()
