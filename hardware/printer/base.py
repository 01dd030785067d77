"""The ticket printer as the kiosk sees it: a Protocol, its status values and its one error."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ..errors import DeviceError as DeviceError  # re-exported: drivers import it from here
from .layout import Document, Paper


class PrinterState(StrEnum):
    OK = "ok"
    PAPER_LOW = "paper_low"  # near-end sensor: still prints, staff should change the roll
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"  # unreachable, switched off, cover open, cutter jam …
    UNKNOWN = "unknown"  # the link cannot ask, or the printer did not answer: never taken as ok


_MESSAGES = {
    PrinterState.OK: "打印机正常",
    PrinterState.PAPER_LOW: "打印纸即将用完，请工作人员及时换纸",
    PrinterState.PAPER_OUT: "打印机缺纸，请联系工作人员换纸",
    PrinterState.OFFLINE: "打印机未连接或未就绪",
    PrinterState.UNKNOWN: "无法确认打印机状态",
}


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the printer said (or did not say) just now; `message` is Chinese for the screen."""

    state: PrinterState
    message: str
    detail: str = ""  # technical, English: raw status bytes or the OS error

    @classmethod
    def of(cls, state: PrinterState, detail: str = "", message: str | None = None) -> PrinterStatus:
        return cls(state, message or _MESSAGES[state], detail)

    @property
    def can_print(self) -> bool:
        """Worth sending a job: the printer said ok/paper low, or cannot tell (File links never can)."""
        return self.state in (PrinterState.OK, PrinterState.PAPER_LOW, PrinterState.UNKNOWN)

    def to_json(self) -> dict[str, str]:
        return {"state": self.state.value, "message": self.message, "detail": self.detail}


class PrinterError(DeviceError):
    """A job or a query failed; `code` is stable for the kiosk and the logs."""

    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    NOT_READY = "not_ready"  # cover open, cutter error …: the status says why
    WRITE_FAILED = "write_failed"  # the link broke while sending: the slip may be partly printed
    BAD_SPEC = "bad_spec"
    BAD_DOCUMENT = "bad_document"  # laid out for the other paper width
    RENDER_FAILED = "render_failed"  # no CJK font, data too long for the paper: nothing sent
    UNSUPPORTED = "unsupported"  # the driver library for this link is not installed

    code = "printer_error"

    def __init__(self, message: str, code: str = "printer_error", status: PrinterStatus | None = None):
        super().__init__(message)
        self.code = code
        self.status = status

    @classmethod
    def refusing(cls, status: PrinterStatus) -> PrinterError:
        """The error for a job not sent because of `status` (paper out, offline, cover open …)."""
        code = {PrinterState.PAPER_OUT: cls.PAPER_OUT, PrinterState.OFFLINE: cls.OFFLINE}
        return cls(status.message, code.get(status.state, cls.NOT_READY), status)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.status is not None:
            out["status"] = self.status.to_json()
        return out


class TicketPrinter(Protocol):
    """A printer the kiosk can ask for its state and give a document to."""

    @property
    def paper(self) -> Paper:
        """The roll loaded: lay documents out for this width."""
        ...

    def status(self) -> PrinterStatus:
        """Ask the printer now; never raises."""
        ...

    def print_document(self, doc: Document) -> None:
        """Check the status, then print; PrinterError (nothing sent) if it cannot print."""
        ...
