"""Citizen ID numbers (GB 11643-1999): check digit, birth date, sex, masking, and the priority they give."""

from __future__ import annotations

import re
from datetime import date

from .errors import InvalidIdNumber

# Weights 2^(17-i) mod 11 for positions 1..17 (GB 11643-1999 §7.2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only: \d also takes other scripts


def check_char(first17: str) -> str:
    """The check character of the first 17 digits."""
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    """Strip spaces and upper-case a keyed-in lowercase x; no validation."""
    return raw.strip().replace(" ", "").upper()


def validate(raw: str, today: date | None = None) -> str:
    """The normalised ID number, or InvalidIdNumber naming what is wrong."""
    number = normalise(raw)
    if not _SHAPE.match(number):
        raise InvalidIdNumber("身份证号码应为18位，最后一位可以是数字或X")
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号码校验位不正确，请核对后重新输入")
    born = _birth_date(number)
    if born is None or (today is not None and born > today):
        raise InvalidIdNumber("身份证号码中的出生日期无效")
    return number


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def birth_date(number: str) -> date:
    """The birth date carried in a valid ID number."""
    born = _birth_date(number)
    if born is None:
        raise InvalidIdNumber("身份证号码中的出生日期无效")
    return born


def sex(number: str) -> str:
    """'男' or '女' from the parity of the sequence code (odd = male)."""
    return "男" if int(number[16]) % 2 else "女"


def age_on(number: str, day: date) -> int:
    """Full years of age on `day`."""
    born = birth_date(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_elderly(number: str, day: date, elderly_age: int) -> bool:
    """True when the holder has reached the hall's elderly age on `day` (绿色通道)."""
    return age_on(validate(number, day), day) >= elderly_age


def mask_id(number: str) -> str:
    """3201********1234: first four and last four characters only."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


def mask_name(name: str) -> str:
    """张* / 欧阳** / 张*三: the family name (and a last character for long names) only."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if len(name) == 3:
        return name[0] + "*" + name[-1]
    return name[:2] + "*" * (len(name) - 2)
