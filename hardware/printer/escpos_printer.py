"""The ESC/POS driver: python-escpos links (USB, serial, TCP, file), status by DLE EOT, two print modes.

A job is first built on python-escpos `Dummy` (the same library calls for every link, and what the
simulator keeps), then written to the link in chunks. The parts live beside this module: `links`
(connections and specs), `status` (DLE EOT), `encoder` (the job's bytes); their public names stay
importable from here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from . import render
from .base import PrinterError, PrinterState, PrinterStatus
from .encoder import Mode, columns, encode
from .escpos_lib import EscposError
from .layout import Document, Paper
from .links import (
    STATUS_TIMEOUT,
    WRITE_TIMEOUT,
    FileLink,
    Link,
    NetworkLink,
    SerialLink,
    UsbLink,
    parse_spec,
)
from .status import DLE_EOT, read_status, status_from_bytes

__all__ = [
    "CHUNK",
    "DLE_EOT",
    "STATUS_TIMEOUT",
    "WRITE_TIMEOUT",
    "EscposPrinter",
    "FileLink",
    "Link",
    "Mode",
    "NetworkLink",
    "SerialLink",
    "UsbLink",
    "columns",
    "encode",
    "parse_spec",
    "read_status",
    "status_from_bytes",
]

CHUNK = 4096  # bytes per write, so one long raster never waits on one long timeout


class EscposPrinter:
    """A TicketPrinter on one python-escpos link; every failure comes out as PrinterError."""

    def __init__(self, link: Link, paper: int | Paper = Paper.MM80, mode: Mode | str | None = None,
                 *, native_qr: bool = False, fonts: render.Fonts | None = None):
        self.link, self._paper = link, Paper.of(paper)
        default = Mode.TEXT if isinstance(link, SerialLink) else Mode.RASTER  # raster is ~60 kB
        self.mode = Mode(mode) if mode else default
        self.native_qr, self.fonts = native_qr, fonts
        self._dev: Any = None
        self._lock = threading.Lock()  # the kiosk polls status while a job may be printing
        self.last_job = b""

    @property
    def paper(self) -> Paper:
        return self._paper

    @property
    def name(self) -> str:
        return self.link.name

    @contextlib.contextmanager
    def _device(self) -> Iterator[Any]:
        with self._lock:
            if self._dev is None:
                try:
                    self._dev = self.link.open()
                except PrinterError as e:  # the kiosk shows the status of every failure
                    e.status = e.status or PrinterStatus.of(PrinterState.OFFLINE, str(e))
                    raise
            broken = False
            try:
                yield self._dev
            except (OSError, EscposError):  # the link is broken: open a fresh one next time
                broken = True
                raise
            finally:
                if broken or not self.link.persistent:
                    self._drop()

    def _drop(self) -> None:
        dev, self._dev = self._dev, None
        if dev is not None:
            self.link.close(dev)

    def status(self) -> PrinterStatus:
        """Ask the printer now; offline when it cannot be reached, never an exception."""
        try:
            with self._device() as dev:
                return read_status(self.link, dev)
        except PrinterError as e:
            return e.status or PrinterStatus.of(PrinterState.OFFLINE, str(e))
        except (OSError, EscposError) as e:
            return PrinterStatus.of(PrinterState.OFFLINE, f"{self.name}: {e}")

    def print_document(self, doc: Document) -> None:
        """Check the status, then send the job; PrinterError, with nothing sent, if it cannot print."""
        if doc.paper is not self.paper:
            raise PrinterError(f"document laid out for {doc.paper.value} mm, printer has "
                               f"{self.paper.value} mm paper", PrinterError.BAD_DOCUMENT)
        try:
            job = encode(doc, self.mode, native_qr=self.native_qr, fonts=self.fonts)
        except (OSError, ValueError, EscposError) as e:  # no CJK font, a QR too long for the paper
            raise PrinterError(f"cannot lay out {doc.title}: {e}", PrinterError.RENDER_FAILED) from e
        sent = False
        try:
            with self._device() as dev:
                status = read_status(self.link, dev)
                if not status.can_print:
                    raise PrinterError.refusing(status)
                sent = True
                for i in range(0, len(job), CHUNK):
                    dev._raw(job[i:i + CHUNK])
        except (OSError, EscposError) as e:
            code = PrinterError.WRITE_FAILED if sent else PrinterError.OFFLINE
            lost = PrinterStatus.of(PrinterState.OFFLINE, f"{self.name}: {e}")
            raise PrinterError(f"{self.name}: {e}", code, lost) from e
        self.last_job = job

    def close(self) -> None:
        with self._lock:
            self._drop()
