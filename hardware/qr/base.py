"""QR sources and decoders: the protocols the kiosk agent programs against, their errors, dedupe."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ..errors import DeviceError as DeviceError  # re-exported: drivers import it from here

Gray = NDArray[np.uint8]
"""A 2-D 8-bit grayscale frame (height × width), C-contiguous."""




class CameraUnavailable(DeviceError):
    """The camera cannot be opened or stopped delivering frames (unplugged, busy, wrong index)."""

    code = "camera_unavailable"


class DecoderUnavailable(DeviceError):
    """A decoding library is not installed or its shared library (e.g. libzbar) cannot be loaded."""

    code = "decoder_unavailable"


class ScannerClosed(DeviceError):
    """The keyboard-wedge scanner's input stream ended."""

    code = "scanner_closed"


class QrSource(Protocol):
    def read(self, timeout: float) -> str | None:
        """The next new code text, or None when nothing new arrived within `timeout` seconds."""
        ...


class Decoder(Protocol):
    name: str

    def decode(self, gray: Gray) -> list[str]:
        """Every QR code text found in the frame; [] when none."""
        ...


ErrorSink = Callable[[DeviceError], None]


class Dedupe:
    """Lets a text through once while it keeps being seen; again only after `window` seconds unseen.

    A phone held to the camera is decoded on dozens of consecutive frames, and a scanner may send the
    same code twice: the kiosk must act once (hardware.md §3, "Deduplicate").
    """

    def __init__(self, window: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last_seen: dict[str, float] = {}

    def accept(self, text: str) -> bool:
        """True if `text` is new, i.e. not seen within the last `window` seconds; records the sighting."""
        now = self._clock()
        # Forget old sightings so the dict stays as small as the handful of codes of the last seconds.
        self._last_seen = {t: s for t, s in self._last_seen.items() if now - s <= self.window}
        fresh = text not in self._last_seen
        self._last_seen[text] = now  # every sighting extends the window: consecutive frames stay one
        return fresh
