"""A printer without hardware: the real driver on python-escpos `Dummy`, which keeps the ESC/POS bytes.

Status questions are answered with the bytes a real printer sends in the chosen condition, so the
driver's own DLE EOT mapping runs too; `preview_png` draws what the paper would show.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from escpos.printer import Dummy

from .base import PrinterError
from .escpos_printer import EscposPrinter, Mode
from .layout import Document, Paper
from .render import Fonts, render


class Condition(StrEnum):
    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"  # unreachable: switched off, cable out
    SILENT = "silent"  # connected but never answers DLE EOT


# Answers to DLE EOT 1 / 4 / 2 in each condition (ESC/POS real-time status bit layout).
_ANSWERS: dict[Condition, dict[int, int]] = {
    Condition.OK: {1: 0x12, 4: 0x12, 2: 0x12},
    Condition.PAPER_LOW: {1: 0x12, 4: 0x1E, 2: 0x12},
    Condition.PAPER_OUT: {1: 0x1A, 4: 0x72, 2: 0x32},
    Condition.COVER_OPEN: {1: 0x1A, 4: 0x12, 2: 0x16},
    Condition.SILENT: {},
}


class DummyLink:
    """A Link onto one python-escpos Dummy that lives as long as the simulator."""

    name = "sim"
    persistent = True

    def __init__(self) -> None:
        self.dummy: Any = Dummy()
        self.condition = Condition.OK
        self.queries: list[bytes] = []  # DLE EOT sent; kept apart so `output` is the jobs alone

    def open(self) -> Any:
        if self.condition is Condition.OFFLINE:
            raise PrinterError("printer sim unreachable (simulated)", PrinterError.OFFLINE)
        return self.dummy

    def ask(self, dev: Any, command: bytes) -> bytes:
        self.queries.append(command)
        answer = _ANSWERS[self.condition].get(command[-1])
        return b"" if answer is None else bytes((answer,))

    def close(self, dev: Any) -> None:
        pass


class SimulatedPrinter(EscposPrinter):
    """The EscposPrinter driver on a Dummy link, with a settable condition and a PNG preview."""

    def __init__(self, paper: int | Paper = Paper.MM80, mode: Mode | str | None = None,
                 *, native_qr: bool = False, fonts: Fonts | None = None):
        self.sim_link = DummyLink()
        super().__init__(self.sim_link, paper, mode, native_qr=native_qr, fonts=fonts)
        self.documents: list[Document] = []

    @property
    def condition(self) -> Condition:
        return self.sim_link.condition

    @condition.setter
    def condition(self, value: Condition | str) -> None:
        self.sim_link.condition = Condition(value)

    @property
    def output(self) -> bytes:
        """Every ESC/POS byte printed so far (status queries excluded)."""
        return bytes(self.sim_link.dummy.output)

    def clear(self) -> None:
        self.sim_link.dummy.clear()
        self.documents.clear()

    def print_document(self, doc: Document) -> None:
        super().print_document(doc)
        self.documents.append(doc)

    def preview_png(self, path: str | Path, doc: Document | None = None) -> Path:
        """Write what `doc` (default: the last document printed) looks like on paper."""
        doc = doc or (self.documents[-1] if self.documents else None)
        if doc is None:
            raise ValueError("nothing printed yet: pass the document to preview")
        out = Path(path)
        render(doc, self.fonts).save(out, format="PNG", dpi=(203, 203))
        return out
