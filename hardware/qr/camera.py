"""A camera as a QR source: OpenCV frames decoded in a background thread, each code yielded once."""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2

from .base import CameraUnavailable, Dedupe, DeviceError, ErrorSink
from .decoders import Chain, default_chain, fresh_codes

log = logging.getLogger(__name__)


class CameraQrSource:
    """Codes seen by a camera (index, device path or URL) or played from a video file.

    Frames are captured at 1280x720 when the camera offers it (more pixels per module at the same
    distance, hardware.md §3) and every frame is decoded. A camera that cannot be opened or stops
    delivering frames is reported (`error`, `on_error`, the log) and reopened every
    `retry_interval` seconds; `read` never raises. A video file is played once.
    """

    def __init__(
        self,
        device: int | str = 0,
        chain: Chain | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        dedupe: Dedupe | None = None,
        retry_interval: float = 2.0,
        on_error: ErrorSink | None = None,
    ) -> None:
        self.device = device
        self.chain = chain if chain is not None else default_chain()
        self.size = (width, height)
        self.dedupe = dedupe if dedupe is not None else Dedupe()
        self.retry_interval = retry_interval
        self.on_error = on_error
        self.finite = isinstance(device, str) and Path(device).is_file()  # a recorded video
        self.frames = 0  # frames decoded so far, for diagnostics
        self.error: DeviceError | None = None  # the current problem; None while frames arrive
        self._codes: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start capturing (idempotent; `read` starts it too)."""
        with self._lock:
            if self._thread is None:
                name = f"qr-camera-{self.device}"
                self._thread = threading.Thread(target=self._run, name=name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop capturing and release the camera."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CameraQrSource:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """True while the capture thread runs (a played video file ends it)."""
        return self._thread is not None and self._thread.is_alive()

    def read(self, timeout: float) -> str | None:
        """The next new code, or None after `timeout` seconds."""
        self.start()
        try:
            return self._codes.get(timeout=timeout)
        except queue.Empty:
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._capture()
            except Exception as e:  # an OpenCV or driver failure costs a retry, never the kiosk
                log.exception("QR camera %r failed", self.device)
                self._report(CameraUnavailable(f"camera {self.device!r} failed: {e}"))
            if self.finite:
                log.info("QR camera: finished playing %s (%d frames)", self.device, self.frames)
                return
            self._stop.wait(self.retry_interval)

    def _capture(self) -> None:
        cap = cv2.VideoCapture(self.device)
        try:
            if not cap.isOpened():
                self._report(CameraUnavailable(f"camera {self.device!r} cannot be opened"))
                return
            if not self.finite:
                self._configure(cap)
            self._pump(cap)
        finally:
            cap.release()

    def _configure(self, cap: Any) -> None:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # decode the newest frame, not a queue of stale ones
        got = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if got != self.size:
            log.info("QR camera %r delivers %dx%d, not %dx%d", self.device, *got, *self.size)

    def _pump(self, cap: Any) -> None:
        while not self._stop.is_set():
            ok, frame = cap.read()
            if not ok or frame is None:
                if not self.finite:  # unplugged, or the driver gave up
                    self._report(CameraUnavailable(f"camera {self.device!r} stopped delivering frames"))
                return
            if self.error is not None:
                log.warning("QR camera %r delivers frames again", self.device)
                self.error = None
            self.frames += 1
            for text in fresh_codes(self.chain, self.dedupe, frame):
                self._codes.put(text)

    def _report(self, error: DeviceError) -> None:
        # Once per change of state: a missing camera retried every 2 s must not flood the log.
        if self.error is None or str(self.error) != str(error):
            log.warning("QR camera: %s; retrying every %g s", error, self.retry_interval)
            if self.on_error is not None:
                self.on_error(error)
        self.error = error
