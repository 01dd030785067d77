"""The ticket printer: documents laid out as blocks, drawn or sent as ESC/POS through python-escpos.

The kiosk calls::

    printer = open_printer("usb:0416:5011", paper=80)   # or "sim", "tcp:10.0.0.9:9100", …
    status = printer.status()                           # PrinterStatus, never raises
    printer.print_document(ticket_layout(printer.paper, hall=…, number="A012", …))  # PrinterError
"""

from __future__ import annotations

from .base import DeviceError, PrinterError, PrinterState, PrinterStatus, TicketPrinter
from .escpos_printer import EscposPrinter, Mode, encode, parse_spec
from .layout import (
    Align,
    BigNumber,
    Block,
    Cut,
    Document,
    Feed,
    Paper,
    Qr,
    Rule,
    Size,
    Text,
    notice_layout,
    receipt_layout,
    ticket_layout,
)
from .render import Fonts, render
from .sim import Condition, SimulatedPrinter

__all__ = [
    "Align",
    "BigNumber",
    "Block",
    "Condition",
    "Cut",
    "DeviceError",
    "Document",
    "EscposPrinter",
    "Feed",
    "Fonts",
    "Mode",
    "Paper",
    "PrinterError",
    "PrinterState",
    "PrinterStatus",
    "Qr",
    "Rule",
    "SimulatedPrinter",
    "Size",
    "Text",
    "TicketPrinter",
    "encode",
    "notice_layout",
    "open_printer",
    "parse_spec",
    "receipt_layout",
    "render",
    "ticket_layout",
]


def open_printer(spec: str, paper: int | Paper = Paper.MM80, mode: Mode | str | None = None,
                 *, native_qr: bool = False, font: str | None = None) -> EscposPrinter:
    """The printer named by `spec` (`usb:VID:PID`, `serial:DEV[@BAUD]`, `tcp:HOST:PORT`, `file:PATH`,
    `sim`); nothing is opened until the first status() or print. PrinterError(bad_spec) on a bad spec.

    `font` overrides the CJK font (`path` or `path#index` for a .ttc); fc-match finds it otherwise.
    """
    try:
        fonts = Fonts.find(font) if font else None
    except (OSError, ValueError) as e:
        raise PrinterError(f"font {font}: {e}", PrinterError.BAD_SPEC) from e
    try:
        Mode(mode) if mode else None
        Paper.of(paper)
    except ValueError as e:
        raise PrinterError(str(e), PrinterError.BAD_SPEC) from e
    if spec == "sim":
        return SimulatedPrinter(paper, mode, native_qr=native_qr, fonts=fonts)
    return EscposPrinter(parse_spec(spec), paper, mode, native_qr=native_qr, fonts=fonts)
