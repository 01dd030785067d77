"""Second-generation ID card readers: the SAM frame protocol on a serial port, and a pty simulator.

The kiosk programs against `IdCardReader` (`read_card(timeout) -> IdCard | None`) and catches
`IdCardError`; `SerialIdCardReader` is the driver, `SimulatedReader` the same bytes on a pty.
"""

from __future__ import annotations

from .base import (
    AuthenticationFailed,
    CardDataError,
    CardKind,
    CardReadFailed,
    ChecksumMismatch,
    DeviceError,
    FrameError,
    IdCard,
    IdCardError,
    IdCardReader,
    ReaderStatusError,
    ReaderTimeout,
    ReaderUnavailable,
    SamFailure,
    SamRejectedCommand,
    mask_id,
)
from .serial_reader import SerialIdCardReader
from .sim import Faults, SimulatedReader, demo_card, make_card
from .text import check_char, id_number_valid, parse_card

__all__ = [
    "AuthenticationFailed",
    "CardDataError",
    "CardKind",
    "CardReadFailed",
    "ChecksumMismatch",
    "DeviceError",
    "Faults",
    "FrameError",
    "IdCard",
    "IdCardError",
    "IdCardReader",
    "ReaderStatusError",
    "ReaderTimeout",
    "ReaderUnavailable",
    "SamFailure",
    "SamRejectedCommand",
    "SerialIdCardReader",
    "SimulatedReader",
    "check_char",
    "demo_card",
    "id_number_valid",
    "make_card",
    "mask_id",
    "parse_card",
]
