"""QR decoders (zxing-cpp, pyzbar, OpenCV) and the chain that tries them in order.

Libraries are imported when a decoder is built, not when this module is imported: pyzbar raises
ImportError (or ctypes OSError) when the system's libzbar is absent, and that must cost the kiosk
one decoder and a log line, never the QR path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from .base import Decoder, DecoderUnavailable, Dedupe, Gray
from .preprocess import STEPS, Step, sharpen, up2

log = logging.getLogger(__name__)

# Chosen by `govhall bench qr --per-class 25` (seed 20261123: 400 frames, 25 per class at 640x480
# and at 1280x720; 2 vCPU x86-64): the chain reading the most frames within 10 ms per 720p frame,
# the cheapest one when shares are within 2 points. "zxing-roi" read 89 % (small codes 98 %) for
# 0.4 / 1.0-1.1 ms per codeless 640x480 / 1280x720 frame, what plain zxing costs (85 %, small 78 %).
# pyzbar alone read 72 % for 6-12 / 18-22 ms (two runs); "zxing>pyzbar" read 86 % but adds pyzbar's
# ~19 ms to every codeless 720p frame; "zxing-roi>zxing+up2" read 90 % for 7 ms; full-frame deblur
# (blurred frames 16 → 38 %) costs 22-26 ms. Seed 1 led to the same choice (zxing-roi 88 %, zxing 85 %).
DEFAULT_CHAIN = "zxing-roi"
# Tried in order only when none of the default chain's decoders loads (e.g. no zxing-cpp wheel for
# the kiosk's platform): pyzbar (72 %), then OpenCV's detector (48 %), which comes with the camera.
FALLBACK_CHAINS = ("pyzbar", "opencv")


class ZxingDecoder:
    """zxing-cpp: the strongest and fastest decoder measured here (hardware.md §3).

    With `roi_retry`, when zxing located a code but could not decode it (typically < 2.2 px per
    module), the region around it is cut out, upscaled 2× and sharpened, and read again. Only frames
    with a located code pay for it, so frames without a code cost what plain zxing costs.
    """

    def __init__(self, roi_retry: bool = False) -> None:
        try:
            import zxingcpp
        except (ImportError, OSError) as e:
            raise DecoderUnavailable(f"zxing-cpp cannot be loaded: {e}") from e
        self._zx: Any = zxingcpp
        self._qr: Any = zxingcpp.BarcodeFormat.QRCode
        self.roi_retry = roi_retry
        self.name = "zxing-roi" if roi_retry else "zxing"

    def decode(self, gray: Gray) -> list[str]:
        found = self._zx.read_barcodes(gray, formats=self._qr, return_errors=self.roi_retry)
        texts = [str(b.text) for b in found if b.valid]
        if texts or not found:  # decoded, or nothing located (always so without roi_retry)
            return texts
        crop = sharpen(up2(_around(gray, [b.position for b in found])))  # located, not decoded
        return [str(b.text) for b in self._zx.read_barcodes(crop, formats=self._qr) if b.valid]


def _around(gray: Gray, positions: Sequence[Any]) -> Gray:
    """The region around zxing's located but undecoded symbols, twice their size on each side.

    Those "symbols" are often a finder pattern or a fragment of the code, not all of it: a margin
    of 2× recovered the most frames (bench sets, seeds 20261123 and 5; 0.25× missed noisy ones).
    """
    corners = [c for p in positions for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
    xs, ys = [int(c.x) for c in corners], [int(c.y) for c in corners]
    margin = 2 * max(max(xs) - min(xs), max(ys) - min(ys)) + 4
    h, w = gray.shape
    x0, y0 = max(0, min(xs) - margin), max(0, min(ys) - margin)
    x1, y1 = min(w, max(xs) + margin), min(h, max(ys) + margin)
    return np.ascontiguousarray(gray[y0:y1, x0:x1])


class PyzbarDecoder:
    """pyzbar over the system's libzbar (Debian `libzbar0`): the decoder the hall asked for."""

    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as e:  # ImportError("Unable to find zbar shared library")
            raise DecoderUnavailable(f"pyzbar cannot be loaded (is libzbar0 installed?): {e}") from e
        self._zbar: Any = pyzbar
        self._qr = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, gray: Gray) -> list[str]:
        found = self._zbar.decode(np.ascontiguousarray(gray), symbols=self._qr)
        return [bytes(s.data).decode("utf-8", "replace") for s in found]


class OpenCvDecoder:
    """OpenCV's own detector (the ArUco-based one by default): slower and weaker, a last resort."""

    def __init__(self, aruco: bool = True) -> None:
        self.name = "opencv" if aruco else "opencv-classic"
        self._detector: Any = cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()

    def decode(self, gray: Gray) -> list[str]:
        ok, texts, _points, _straight = self._detector.detectAndDecodeMulti(gray)
        return [str(t) for t in texts if t] if ok else []


DECODERS: dict[str, Callable[[], Decoder]] = {
    "zxing": ZxingDecoder,
    "zxing-roi": lambda: ZxingDecoder(roi_retry=True),
    "pyzbar": PyzbarDecoder,
    "opencv": OpenCvDecoder,
    "opencv-classic": lambda: OpenCvDecoder(aruco=False),
}


@dataclass(frozen=True, slots=True)
class Stage:
    """One attempt: preprocessing steps, then a decoder."""

    decoder: Decoder
    steps: tuple[tuple[str, Step], ...] = ()

    @property
    def name(self) -> str:
        return "+".join([self.decoder.name, *(n for n, _ in self.steps)])

    def decode(self, gray: Gray) -> list[str]:
        for _, step in self.steps:
            gray = step(gray)
        return self.decoder.decode(gray)


class Chain:
    """Tries its stages in order on a frame and returns the first non-empty result."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = tuple(stages)
        self._failed: set[str] = set()

    @property
    def name(self) -> str:
        return "→".join(s.name for s in self.stages) or "(none)"

    @classmethod
    def from_spec(cls, spec: str) -> Chain:
        """Build "zxing>zxing+up2>pyzbar" (or with →); stages whose library is missing are skipped."""
        stages = []
        for part in spec.replace("→", ">").split(">"):
            try:
                stages.append(_stage(part.strip()))
            except DecoderUnavailable as e:
                log.warning("QR chain %r: skipping stage %r: %s", spec, part.strip(), e)
        return cls(stages)

    def decode(self, gray: Gray) -> list[str]:
        """Texts from the first stage that finds any; [] if none does (or every stage failed)."""
        for stage in self.stages:
            try:
                found = stage.decode(gray)
            except Exception as e:  # a decoder bug must cost one frame, not the kiosk's QR path
                if stage.name not in self._failed:
                    self._failed.add(stage.name)
                    log.exception("QR stage %s failed: %s", stage.name, e)
                continue
            if found:
                return _unique(found)
        return []


def _stage(part: str) -> Stage:
    name, *steps = part.split("+")
    if name not in DECODERS:
        raise ValueError(f"unknown QR decoder {name!r}; known: {', '.join(DECODERS)}")
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"unknown preprocessing step(s) {unknown}; known: {', '.join(STEPS)}")
    return Stage(DECODERS[name](), tuple((s, STEPS[s]) for s in steps))


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def to_gray(image: NDArray[Any]) -> Gray:
    """An 8-bit grayscale view of a camera or file frame (BGR, BGRA or already gray)."""
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    return np.ascontiguousarray(image, dtype=np.uint8)


def fresh_codes(chain: Chain, dedupe: Dedupe, image: NDArray[Any]) -> list[str]:
    """The frame's code texts that `dedupe` lets through: what every frame source yields."""
    return [t for t in chain.decode(to_gray(image)) if dedupe.accept(t)]


def default_chain() -> Chain:
    """The benchmark's choice (DEFAULT_CHAIN), else the first of FALLBACK_CHAINS that loads."""
    for spec in (DEFAULT_CHAIN, *FALLBACK_CHAINS):
        chain = Chain.from_spec(spec)
        if chain.stages:
            if spec != DEFAULT_CHAIN:
                log.error("QR: default chain %r cannot be loaded; using %r", DEFAULT_CHAIN, spec)
            return chain
    log.error("QR: no decoder can be loaded; the camera will read nothing")
    return Chain(())
