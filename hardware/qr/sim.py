"""Simulated QR sources: a queue for the demo and tests, and image files played like a camera."""

from __future__ import annotations

import logging
import queue
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from .base import Dedupe, DeviceError, ErrorSink
from .decoders import Chain, default_chain, fresh_codes

log = logging.getLogger(__name__)


class SimulatedQrSource:
    """The demo or a test puts code texts in `codes`; `read` hands them out."""

    def __init__(self) -> None:
        self.codes: queue.SimpleQueue[str] = queue.SimpleQueue()

    def read(self, timeout: float) -> str | None:
        try:
            return self.codes.get(timeout=timeout)
        except queue.Empty:
            return None


class FrameFileSource:
    """Image files (or frames) played as a `fps` camera through the real decoders and dedupe.

    Simulates one level below the camera: only the capture is replaced, so tests and the demo run
    the kiosk's actual decode path on actual images.
    """

    def __init__(
        self,
        frames: Iterable[str | Path | NDArray[Any]],
        chain: Chain | None = None,
        *,
        fps: float = 30.0,
        dedupe_window: float = 3.0,
        on_error: ErrorSink | None = None,
    ) -> None:
        self.chain = chain if chain is not None else default_chain()
        self._frames = iter(frames)
        self._played = 0
        # Dedupe on the frames' own clock, as if they came at `fps`, not on how fast we decode them.
        self.dedupe = Dedupe(dedupe_window, clock=lambda: self._played / fps)
        self.on_error = on_error
        self._pending: deque[str] = deque()

    def read(self, timeout: float) -> str | None:
        """The next new code among the remaining frames; None once they are all played."""
        while not self._pending:
            item = next(self._frames, None)
            if item is None:
                return None
            image = self._load(item)
            self._played += 1
            if image is not None:
                self._pending.extend(fresh_codes(self.chain, self.dedupe, image))
        return self._pending.popleft()

    def _load(self, item: str | Path | NDArray[Any]) -> NDArray[Any] | None:
        if isinstance(item, np.ndarray):
            return item
        image = cv2.imread(str(item), cv2.IMREAD_GRAYSCALE)
        if image is None:
            error = DeviceError(f"cannot read image {item}")
            log.warning("%s", error)
            if self.on_error is not None:
                self.on_error(error)
        return image
