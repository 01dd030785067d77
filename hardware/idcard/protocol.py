"""The SAM frame protocol of second-generation ID card readers (hardware.md §1.2–1.6): pure bytes, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .base import (
    AuthenticationFailed,
    CardReadFailed,
    ChecksumMismatch,
    FrameError,
    ReaderStatusError,
    SamFailure,
    SamRejectedCommand,
)

PREAMBLE: Final = b"\xaa\xaa\xaa\x96\x69"
HEADER: Final = len(PREAMBLE) + 2  # preamble + big-endian LEN
MAX_LENGTH: Final = 4096  # the largest reply (base message + fingerprint) is 2,314; more is garbage

OK: Final = 0x90
NO_ITEM: Final = 0x91
CARD_FOUND: Final = 0x9F
NO_CARD: Final = 0x80

TEXT_SIZE: Final = 256
PHOTO_SIZE: Final = 1024


def xor(data: bytes) -> int:
    chk = 0
    for b in data:
        chk ^= b
    return chk


def frame(body: bytes) -> bytes:
    """PREAMBLE, LEN (counting body + checksum), body, XOR of LEN..body (§1.2: LEN is included)."""
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


def request(cmd: int, para: int, data: bytes = b"") -> bytes:
    return frame(bytes([cmd, para]) + data)


def response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True, slots=True)
class Command:
    """A host → SAM command (§1.4)."""

    name: str
    cmd: int
    para: int

    def frame(self, data: bytes = b"") -> bytes:
        return request(self.cmd, self.para, data)


RESET_SAM: Final = Command("reset", 0x10, 0xFF)
SAM_STATUS: Final = Command("status", 0x11, 0xFF)
READ_SAM_ID: Final = Command("sam_id", 0x12, 0xFF)
FIND_CARD: Final = Command("find", 0x20, 0x01)
SELECT_CARD: Final = Command("select", 0x20, 0x02)
READ_BASE: Final = Command("read", 0x30, 0x01)
READ_NEW_ADDRESS: Final = Command("read_new_address", 0x30, 0x03)
READ_BASE_FINGERPRINT: Final = Command("read_fingerprint", 0x30, 0x10)
SET_RF_FRAME: Final = Command("set_rf_frame", 0x61, 0xFF)  # + 1 byte, e.g. 0x50


@dataclass(frozen=True, slots=True)
class Request:
    cmd: int
    para: int
    data: bytes

    @classmethod
    def from_body(cls, body: bytes) -> Request:
        return cls(body[0], body[1], bytes(body[2:]))


@dataclass(frozen=True, slots=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @classmethod
    def from_body(cls, body: bytes) -> Response:
        return cls(body[0], body[1], body[2], bytes(body[3:]))


class FrameDecoder:
    """Cuts frames out of a byte stream, resynchronising on the preamble after garbage (§1.3).

    `feed` bytes as they come; `next_frame` returns the body (between LEN and CHK) of the next good
    frame, None while incomplete, and raises ChecksumMismatch for a bad one. A rejected candidate
    loses only its first byte, so a real frame hidden behind a false preamble is still found.
    """

    def __init__(self, min_length: int, max_length: int = MAX_LENGTH) -> None:
        self.min_length = min_length  # LEN of the smallest frame: 3 for requests, 4 for replies
        self.max_length = max_length
        self._buf = bytearray()
        self.skipped = 0  # garbage bytes dropped, for diagnostics

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self.skipped += len(self._buf)
        self._buf.clear()

    @property
    def pending(self) -> bool:
        """A frame has started (preamble seen) but is not complete yet."""
        return self._buf.startswith(PREAMBLE)

    def abandon(self) -> None:
        """Give up the pending frame (it stopped arriving) and look for a preamble after its first byte."""
        self._drop(1)

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self.skipped += n

    def next_frame(self) -> bytes | None:
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that may be the start of a preamble split across reads.
                self._drop(max(0, len(self._buf) - (len(PREAMBLE) - 1)))
                return None
            self._drop(start)
            if len(self._buf) < HEADER:
                return None
            length = int.from_bytes(self._buf[5:7], "big")
            if not self.min_length <= length <= self.max_length:
                self._drop(1)  # a preamble look-alike inside garbage
                continue
            if len(self._buf) < HEADER + length:
                return None
            whole = bytes(self._buf[: HEADER + length])
            if xor(whole[5:-1]) != whole[-1]:
                self._drop(1)
                raise ChecksumMismatch(
                    "读卡器应答数据校验错误", f"reply frame failed its checksum ({length + HEADER} bytes)")
            del self._buf[: HEADER + length]
            return whole[HEADER:-1]


def split_base_message(data: bytes) -> tuple[bytes, bytes]:
    """(text, photo) from the data of a read-base-message reply (§1.6: two lengths, text, photo)."""
    if len(data) < 4:
        raise FrameError("身份证信息不完整", f"base message reply too short ({len(data)} bytes)")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_SIZE or len(data) != 4 + text_len + photo_len:
        raise FrameError("身份证信息格式不符",
                         f"base message: text {text_len} B, photo {photo_len} B, data {len(data)} B")
    return data[4:4 + text_len], data[4 + text_len:]


def base_message_data(text: bytes, photo: bytes) -> bytes:
    """The data part of a read-base-message reply, as the SAM sends it."""
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


# SW3 → (code, class, 中文 for the screen, English for the log) — hardware.md §1.5.
_Status = tuple[str, type[ReaderStatusError], str, str]
STATUS: Final[dict[int, _Status]] = {
    0x10: ("sam_checksum_error", SamRejectedCommand, "读卡器收到的指令校验错误，请重试",
           "the SAM received a command with a bad checksum"),
    0x11: ("sam_length_error", SamRejectedCommand, "读卡器收到的指令长度错误，请重试",
           "the SAM received a command with a bad length"),
    0x21: ("bad_command", SamRejectedCommand, "读卡器不支持该指令",
           "unknown command or bad parameter combination"),
    0x23: ("not_permitted", SamRejectedCommand, "读卡器不允许该操作", "operation not permitted"),
    0x24: ("sam_unknown_error", SamFailure, "读卡器发生未知错误，请联系工作人员", "unknown SAM error"),
    0x31: ("card_rejected_sam", AuthenticationFailed, "身份证认证读卡模块失败，请重新放置身份证",
           "the card failed to authenticate the SAM"),
    0x32: ("sam_rejected_card", AuthenticationFailed, "读卡模块认证身份证失败，该证件可能损坏或无效",
           "the SAM failed to authenticate the card"),
    0x33: ("verification_failed", AuthenticationFailed, "身份证信息验证失败，请重新放置身份证",
           "card information verification failed"),
    0x37: ("fingerprint_mismatch", CardReadFailed, "指纹比对不一致", "fingerprint verification failed"),
    0x3F: ("card_length_error", CardReadFailed, "身份证信息长度错误，请重新放置身份证",
           "card information length error"),
    0x40: ("unknown_card_type", CardReadFailed, "无法识别的卡片，请放置身份证或居住证",
           "unrecognised card type"),
    0x41: ("read_failed", CardReadFailed, "读取身份证失败，请重新放置身份证", "reading the card failed"),
    0x47: ("random_failed", CardReadFailed, "读取身份证失败（取随机数失败），请重新放置身份证",
           "get-random failed"),
    0x60: ("sam_self_test_failed", SamFailure, "读卡模块自检失败，请联系工作人员",
           "SAM self-test failed, it cannot accept commands"),
    0x66: ("sam_not_authorised", SamFailure, "读卡模块未授权，请联系工作人员", "SAM not authorised"),
    0x80: ("no_card", CardReadFailed, "未找到身份证，请将身份证放在感应区", "no card found"),
    0x81: ("select_failed", CardReadFailed, "选卡失败，请重新放置身份证", "selecting the card failed"),
    0x91: ("no_such_item", CardReadFailed, "身份证上没有该项信息", "the card has no such item"),
}


def status_error(sw3: int, command: str = "") -> ReaderStatusError:
    """The error for a non-success SW3 (unknown codes included), naming the command that got it."""
    code, cls, zh, en = STATUS.get(sw3, ("unknown_status", ReaderStatusError, "读卡器返回未知状态",
                                         "unknown result code"))
    return cls(zh, f"{en} [{command}]" if command else en, code=code, sw3=sw3)
