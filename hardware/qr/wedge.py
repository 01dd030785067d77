"""A keyboard-wedge (USB HID) QR scanner as a QR source: typed characters terminated by Enter.

Such a scanner is a keyboard: it "types" the code and presses Enter (CR, LF or CR LF, per its
configuration). The kiosk agent, which owns the keyboard focus, passes the characters it receives
to `feed`; or it hands over a text stream whose lines are the scans (a pipe, a FIFO, a tty in
canonical mode, opened in text mode so CR, LF and CR LF all end a line), read in a thread here.
Turning raw /dev/input/event* key codes into characters needs the keyboard layout and is the
agent's job, not this module's. Spaces are kept: they belong to the base45 alphabet of our code.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TextIO

from .base import Dedupe, DeviceError, ErrorSink, ScannerClosed

log = logging.getLogger(__name__)

ENTER = "\r\n"


class WedgeQrSource:
    """Scans from a keyboard-wedge scanner, each code yielded once (same dedupe as the camera)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        dedupe: Dedupe | None = None,
        on_error: ErrorSink | None = None,
        max_length: int = 2048,
    ) -> None:
        self.dedupe = dedupe if dedupe is not None else Dedupe()
        self.on_error = on_error
        self.max_length = max_length  # longer "scans" are a stuck key or typing, not a code
        self.error: DeviceError | None = None
        self._buffer: list[str] = []
        self._overflow = False
        self._codes: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if stream is not None:
            self._thread = threading.Thread(target=self._follow, args=(stream,), name="qr-wedge", daemon=True)
            self._thread.start()

    def feed(self, chars: str) -> None:
        """Characters as the scanner typed them; Enter (CR or LF) ends a scan."""
        with self._lock:
            for ch in chars:
                if ch in ENTER:
                    self._finish("".join(self._buffer))
                elif len(self._buffer) < self.max_length:
                    self._buffer.append(ch)
                elif not self._overflow:
                    log.warning("QR scanner: input longer than %d characters ignored", self.max_length)
                    self._overflow = True

    def read(self, timeout: float) -> str | None:
        """The next new scan, or None after `timeout` seconds."""
        try:
            return self._codes.get(timeout=timeout)
        except queue.Empty:
            return None

    def _finish(self, line: str) -> None:
        overflow, self._overflow = self._overflow, False
        self._buffer.clear()
        if line and not overflow and self.dedupe.accept(line):  # empty: the LF of a CR LF
            self._codes.put(line)

    def _follow(self, stream: TextIO) -> None:
        try:
            for line in iter(stream.readline, ""):
                self.feed(line if line.endswith(("\n", "\r")) else line + "\n")
        except (OSError, ValueError) as e:  # device gone, or the stream closed under us
            self._report(ScannerClosed(f"QR scanner stream failed: {e}"))
            return
        self._report(ScannerClosed("QR scanner stream ended"))

    def _report(self, error: DeviceError) -> None:
        log.warning("%s", error)
        self.error = error
        if self.on_error is not None:
            self.on_error(error)
