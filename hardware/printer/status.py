"""Printer status by DLE EOT: the answer bytes of ESC/POS real-time queries mapped to PrinterStatus."""

from __future__ import annotations

from typing import Any, TypeGuard

from .base import PrinterState, PrinterStatus
from .links import Link

DLE_EOT = b"\x10\x04"


def _valid(b: int | None) -> TypeGuard[int]:
    return b is not None and b & 0x93 == 0x12  # fixed bits of every DLE EOT answer


def status_from_bytes(online: int | None, paper: int | None, cause: int | None = None) -> PrinterStatus:
    """Map DLE EOT 1 (printer), 4 (paper sensor) and 2 (offline cause) answers; None = no answer."""
    def hexa(b: int | None) -> str:
        return "none" if b is None else f"{b:02x}"

    raw = f"EOT1={hexa(online)} EOT4={hexa(paper)}" + (f" EOT2={hexa(cause)}" if cause is not None else "")
    if not _valid(online):
        return PrinterStatus.of(PrinterState.UNKNOWN, raw, "打印机未应答状态查询" if online is None else None)
    if (_valid(paper) and paper & 0x60) or (_valid(cause) and cause & 0x20):
        return PrinterStatus.of(PrinterState.PAPER_OUT, raw)
    if online & 0x08:
        c = cause if _valid(cause) else 0
        why = "打印机盖未合上" if c & 0x04 else "打印机故障，请联系工作人员" if c & 0x40 else None
        return PrinterStatus.of(PrinterState.OFFLINE, raw, why)
    if not _valid(paper):
        return PrinterStatus.of(PrinterState.UNKNOWN, raw, "无法确认打印纸状态")
    if paper & 0x0C:
        return PrinterStatus.of(PrinterState.PAPER_LOW, raw)
    return PrinterStatus.of(PrinterState.OK, raw)


def read_status(link: Link, dev: Any) -> PrinterStatus:
    """Ask DLE EOT 1, 4 (and 2 when offline) on an open device; "no answer" is unknown, never ok."""
    first = link.ask(dev, DLE_EOT + b"\x01")
    if first is None:
        return PrinterStatus.of(PrinterState.UNKNOWN, f"{link.name} cannot read status",
                                "此连接无法读取打印机状态")

    def ask(n: int) -> int | None:
        answer = link.ask(dev, DLE_EOT + bytes((n,)))
        return answer[0] if answer else None

    online = first[0] if first else None
    paper = ask(4) if online is not None else None
    cause = ask(2) if online is not None and online & 0x08 else None
    return status_from_bytes(online, paper, cause)
