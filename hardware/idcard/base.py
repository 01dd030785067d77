"""The ID card reader as the kiosk sees it: the `IdCard` value, the `IdCardReader` Protocol, its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from ..errors import DeviceError as DeviceError  # re-exported: drivers import it from here


class IdCardError(DeviceError):
    """The reader or the card failed; `str(e)` is "中文 / English", `zh` alone is for the screen."""

    code = "idcard_error"

    def __init__(self, zh: str, en: str, *, code: str | None = None, sw3: int | None = None) -> None:
        detail = f"{en} (SW3=0x{sw3:02X})" if sw3 is not None else en
        super().__init__(f"{zh} / {detail}")
        self.zh = zh
        self.en = en
        self.sw3 = sw3
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.sw3 is not None:
            out["sw3"] = f"0x{self.sw3:02X}"
        return out


class ReaderUnavailable(IdCardError):
    """The serial port cannot be opened or broke (unplugged, busy, wrong path, permissions)."""

    code = "reader_unavailable"


class ReaderTimeout(IdCardError):
    """The reader sent nothing within the time allowed (switched off, wrong port or baud rate)."""

    code = "reader_timeout"


class FrameError(IdCardError):
    """The reader's reply was garbled (bad checksum, cut short, unexpected layout) even after retries."""

    code = "frame_error"


class ChecksumMismatch(FrameError):
    """One reply frame failed its XOR checksum; the driver retries before giving up."""

    code = "checksum_error"


class CardDataError(IdCardError):
    """The card's text block cannot be decoded into a card (unknown card kind, malformed dates)."""

    code = "card_data_invalid"


class ReaderStatusError(IdCardError):
    """The SAM answered with an error result code SW3 (hardware.md §1.5); `code` names the status."""

    code = "reader_status"


class SamRejectedCommand(ReaderStatusError):
    """The SAM refused our frame: checksum/length error, bad command, not permitted (0x10 0x11 0x21 0x23)."""


class SamFailure(ReaderStatusError):
    """The SAM module itself is out of order or not authorised (0x24 0x60 0x66): call a technician."""


class AuthenticationFailed(ReaderStatusError):
    """Card and SAM did not authenticate each other (0x31 0x32 0x33): damaged or not a genuine card."""


class CardReadFailed(ReaderStatusError):
    """Finding, selecting or reading the card failed (0x37 0x3F 0x40 0x41 0x47 0x80 0x81 0x91)."""


class CardKind(StrEnum):
    """The card-type flag at byte 248 of the text block (hardware.md §1.8)."""

    RESIDENT = "resident"  # 居民身份证: flag space
    HK_MO_TW = "hk_mo_tw"  # 港澳台居民居住证: flag 'J'
    FOREIGNER = "foreigner"  # 外国人永久居留身份证 (2017): flag 'I'


LONG_TERM = "长期"


def mask_id(number: str) -> str:
    """3201**********1239: the first four and last four characters only (DESIGN.md privacy)."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


@dataclass(frozen=True, slots=True, repr=False)
class IdCard:
    """One card as read: decoded fields, what looked wrong, and the raw bytes (never the decoded photo)."""

    kind: CardKind
    name: str  # Chinese name; a foreigner card without one carries the English name here too
    sex: str  # 男 / 女 / 未知 / 未说明
    nation: str  # 汉族 …; "" on HK/MO/TW permits and foreigner cards
    birth_date: date
    address: str  # "" on foreigner cards
    id_number: str  # citizen ID number; the 15-character permit number on foreigner cards
    authority: str  # 签发机关; the issuing authority code on foreigner cards
    valid_from: date
    valid_to: date | None  # None: 长期 (no expiry)
    id_number_valid: bool | None  # GB 11643 check digit; None: not a GB 11643 number (foreigner card)
    problems: tuple[str, ...] = ()  # consistency checks that failed, English, for logs and the server
    sex_code: str = ""
    nation_code: str = ""
    english_name: str = ""  # foreigner card
    nationality: str = ""  # foreigner card: GB/T 2659 alpha-3
    pass_number: str = ""  # HK/MO/TW permit: 通行证号码
    issue_count: str = ""  # HK/MO/TW permit: 签发次数
    card_version: str = ""  # foreigner card
    text_raw: bytes = field(default=b"")  # the 256-byte UCS-2 block: rare characters survive here
    photo_wlt: bytes = field(default=b"")  # 1024 bytes WLT, never decoded (hardware.md §1.7)

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def __repr__(self) -> str:
        # Personal data stays out of logs and tracebacks: repr shows the masked number only.
        return f"IdCard(kind={self.kind.value}, id_number={self.masked_id!r})"

    def to_json(self, *, show_id: bool = False) -> dict[str, Any]:
        """The fields as JSON values; the ID number masked unless `show_id`."""
        out: dict[str, Any] = {
            "name": self.name, "sex": self.sex, "nation": self.nation,
            "birth_date": self.birth_date.isoformat(), "address": self.address,
            "id_number": self.id_number if show_id else self.masked_id,
            "id_number_valid": self.id_number_valid,
            "authority": self.authority, "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else LONG_TERM,
            "kind": self.kind.value, "photo_bytes": len(self.photo_wlt), "problems": list(self.problems),
        }
        extras = {"english_name": self.english_name, "nationality": self.nationality,
                  "pass_number": self.pass_number if show_id else mask_id(self.pass_number),
                  "issue_count": self.issue_count,
                  "card_version": self.card_version}
        out.update({k: v for k, v in extras.items() if v})
        return out


class IdCardReader(Protocol):
    def read_card(self, timeout: float) -> IdCard | None:
        """The next newly placed card, or None when none arrived within `timeout` seconds.

        Raises IdCardError when the reader or the card failed (never returns unchecked data).
        """
        ...
