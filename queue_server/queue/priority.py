"""Which priority (绿色通道) a ticket gets.

- elderly: only from a verified identity whose birth date (from the ID number) reaches the hall's
  elderly age on the service day; asking for it without such identity is refused.
- disabled: on request; the window checks the 残疾人证 when serving (the hall trusts first, checks at
  the counter, as 绿色通道 practice does).
- appointment: only through an appointment's check-in, never on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .calling import Priority
from .errors import BadRequest, Forbidden


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified person as the queue needs them: never the ID number itself."""

    id_hash: str
    birth_date: date
    masked_name: str


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def entitled(requested: str | None, identity: Identity | None, day: date, elderly_age: int) -> Priority:
    """The priority a new walk-in ticket gets."""
    try:
        asked = Priority(requested) if requested else Priority.NONE
    except ValueError:
        raise BadRequest(f"未知的优先类别：{requested}") from None
    elderly = identity is not None and age_on(identity.birth_date, day) >= elderly_age
    if asked is Priority.APPOINTMENT:
        raise Forbidden("预约优先只能通过预约签到获得")
    if asked is Priority.ELDERLY and not elderly:
        raise Forbidden(f"老年人优先需经身份核验且年满{elderly_age}周岁")
    if elderly:
        return Priority.ELDERLY
    return asked
