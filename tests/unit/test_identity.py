"""GB 11643-1999 ID numbers: check digit, birth date, masking (hardware.md §1.9)."""

from datetime import date

import pytest

from queue_server.queue import identity
from queue_server.queue.errors import InvalidIdNumber


@pytest.mark.parametrize(("first17", "check"), [
    ("11010519491231002", "X"),   # the standard's own example
    ("44052418800101001", "4"),
    ("32010219900307123", "9"),
])
def test_check_char_matches_worked_examples(first17, check):
    assert identity.check_char(first17) == check


def test_validate_accepts_lowercase_x_and_spaces():
    assert identity.validate(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(("raw", "why"), [
    ("11010519491231002", "18位"),
    ("110105194912310021", "校验位"),
    ("11010519491331002X", "出生日期|校验位"),
    ("1101051949123100AX", "18位"),
])
def test_validate_refuses_with_a_reason(raw, why):
    with pytest.raises(InvalidIdNumber, match=why):
        identity.validate(raw)


def test_future_birth_date_is_refused():
    number = "320102203001011" + "23"
    number += identity.check_char(number)
    with pytest.raises(InvalidIdNumber, match="出生日期"):
        identity.validate(number, today=date(2026, 11, 23))


def test_birth_date_sex_and_age():
    n = "11010519491231002X"
    assert identity.birth_date(n) == date(1949, 12, 31)
    assert identity.sex(n) == "女"  # sequence 002 is even
    assert identity.sex("320102199003071239") == "男"
    assert identity.age_on(n, date(2026, 12, 30)) == 76
    assert identity.age_on(n, date(2026, 12, 31)) == 77
    assert identity.is_elderly(n, date(2026, 11, 23), 60)
    assert not identity.is_elderly("320102199003071239", date(2026, 11, 23), 60)


def test_masks_never_show_the_middle():
    assert identity.mask_id("320102199003071239") == "3201**********1239"
    assert identity.mask_name("张三") == "张*"
    assert identity.mask_name("张小三") == "张*三"
    assert identity.mask_name("欧阳娜娜") == "欧阳**"
