"""The 256-byte UCS-2 text block of the card (hardware.md §1.6, §1.8) and GB 11643 ID numbers (§1.9)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Final

from .base import LONG_TERM, CardDataError, CardKind, IdCard
from .protocol import TEXT_SIZE

# (field, byte offset, byte size); every layout puts the ID/permit number at 122 and the flag at 248.
_COMMON: Final = (("name", 0, 30), ("sex", 30, 2), ("nation", 32, 4), ("birth", 36, 16),
                  ("address", 52, 70), ("id_number", 122, 36), ("authority", 158, 30),
                  ("valid_from", 188, 16), ("valid_to", 204, 16))
LAYOUTS: Final[dict[CardKind, tuple[tuple[str, int, int], ...]]] = {
    CardKind.RESIDENT: _COMMON,
    CardKind.HK_MO_TW: (*_COMMON, ("pass_number", 220, 18), ("issue_count", 238, 4)),
    CardKind.FOREIGNER: (("english_name", 0, 120), ("sex", 120, 2), ("id_number", 122, 30),
                         ("nationality", 152, 6), ("name", 158, 30), ("valid_from", 188, 16),
                         ("valid_to", 204, 16), ("birth", 220, 16), ("card_version", 236, 4),
                         ("authority", 240, 8)),
}
FLAG_OFFSET: Final = 248
FLAGS: Final = {" ": CardKind.RESIDENT, "\x00": CardKind.RESIDENT, "J": CardKind.HK_MO_TW,
                "I": CardKind.FOREIGNER}
_FLAG_OF: Final = {CardKind.RESIDENT: " ", CardKind.HK_MO_TW: "J", CardKind.FOREIGNER: "I"}

SEXES: Final = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}  # GB/T 2261.1

_NATIONS: Final = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗",
    "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜",
    "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南",
    "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固",
    "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
# GB/T 3304: 01–56 in the order above, then 97 and 98; shown as name + 族 (汉 → 汉族).
NATIONS: Final[dict[str, str]] = {
    **{f"{i:02d}": f"{n}族" for i, n in enumerate(_NATIONS, start=1)},
    "97": "其他", "98": "外国血统中国籍人士",
}

# GB 11643-1999 §7.2: weights 2^(17-i) mod 11 for positions 1..17.
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_SHAPE: Final = re.compile(r"\d{17}[\dX]")


def check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number_valid(number: str) -> bool:
    """18 characters, 17 digits then a digit or X, and the check character matches."""
    return bool(_ID_SHAPE.fullmatch(number)) and check_char(number[:17]) == number[17]


def _field(block: bytes, offset: int, size: int) -> str:
    # Rare characters may be unpaired surrogates or private-use code points: keep going, the raw
    # block is kept on the card for whoever can do better (§1.6).
    return block[offset:offset + size].decode("utf-16-le", errors="replace").rstrip(" \x00")


def decode_fields(block: bytes) -> tuple[CardKind, dict[str, str]]:
    """The card kind and the stripped text of each field of its layout."""
    if len(block) != TEXT_SIZE:
        raise CardDataError("身份证信息长度错误", f"text block is {len(block)} bytes, not {TEXT_SIZE}")
    flag = block[FLAG_OFFSET:FLAG_OFFSET + 2].decode("utf-16-le", errors="replace")
    kind = FLAGS.get(flag)
    if kind is None:
        raise CardDataError("暂不支持该类证件", f"unsupported card type flag {flag!r}")
    return kind, {name: _field(block, off, size) for name, off, size in LAYOUTS[kind]}


def encode_text(values: Mapping[str, str], kind: CardKind = CardKind.RESIDENT) -> bytes:
    """A text block as a card carries it, space padded (for the simulator and tests)."""
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    sizes = {name: (off, size) for name, off, size in LAYOUTS[kind]}
    unknown = set(values) - set(sizes)
    if unknown:
        raise ValueError(f"no field {sorted(unknown)} on a {kind.value} card")
    for name, value in values.items():
        off, size = sizes[name]
        raw = value.encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{name} is {len(raw)} bytes, the field holds {size}")
        block[off:off + len(raw)] = raw
    block[FLAG_OFFSET:FLAG_OFFSET + 2] = _FLAG_OF[kind].encode("utf-16-le")
    return bytes(block)


def parse_date(text: str, what: str) -> date:
    """YYYYMMDD as a date; CardDataError otherwise."""
    try:
        if len(text) == 8 and text.isascii() and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        pass
    raise CardDataError("身份证日期信息无效", f"{what} is not a date: {text!r}")


def parse_valid_to(text: str) -> date | None:
    """The expiry date, or None for 长期 (no expiry)."""
    return None if text.startswith(LONG_TERM) else parse_date(text, "valid to")


def _checks(kind: CardKind, f: Mapping[str, str], born: date) -> tuple[bool | None, list[str]]:
    """(check digit ok, problems) for the GB 11643 number on resident and HK/MO/TW cards."""
    problems: list[str] = []
    if f["sex"] not in SEXES:
        problems.append(f"unknown sex code {f['sex']!r}")
    if kind is CardKind.RESIDENT and f["nation"] not in NATIONS:
        problems.append(f"unknown nation code {f['nation']!r}")
    if kind is CardKind.FOREIGNER:
        return None, problems  # the 15-character permit number has its own scheme
    number = f["id_number"]
    valid = id_number_valid(number)
    if not valid:
        problems.append("ID number fails the GB 11643 check digit")
    if _ID_SHAPE.fullmatch(number):
        if number[6:14] != born.strftime("%Y%m%d"):
            problems.append("birth date differs from the ID number")
        if f["sex"] in ("1", "2") and int(number[16]) % 2 != (f["sex"] == "1"):
            problems.append("sex differs from the ID number's sequence parity")
    return valid, problems


def parse_card(block: bytes, photo: bytes) -> IdCard:
    """The card in a text block, checked; CardDataError when it cannot be a card at all."""
    kind, f = decode_fields(block)
    f["id_number"] = f["id_number"].upper()
    born = parse_date(f["birth"], "birth date")
    valid_from = parse_date(f["valid_from"], "valid from")
    valid_to = parse_valid_to(f["valid_to"])
    valid, problems = _checks(kind, f, born)
    name = f["name"] or f.get("english_name", "")
    return IdCard(
        kind=kind, name=name, sex=SEXES.get(f["sex"], ""), nation=NATIONS.get(f.get("nation", ""), ""),
        birth_date=born, address=f.get("address", ""), id_number=f["id_number"],
        authority=f["authority"], valid_from=valid_from, valid_to=valid_to, id_number_valid=valid,
        problems=tuple(problems), sex_code=f["sex"], nation_code=f.get("nation", ""),
        english_name=f.get("english_name", ""), nationality=f.get("nationality", ""),
        pass_number=f.get("pass_number", ""), issue_count=f.get("issue_count", ""),
        card_version=f.get("card_version", ""), text_raw=bytes(block), photo_wlt=bytes(photo),
    )
