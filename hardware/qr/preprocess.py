"""Frame preprocessing steps a decoder stage may apply first; each maps gray → gray.

Only steps `govhall bench qr` showed to recover frames are kept (seed 20261123, 25 frames per class
at 640x480 and 1280x720): `up2` lifts zxing on small codes 78 → 92 %, `up2` then `sharpen` to
100 % (the "zxing-roi" decoder applies both to the located code only); `deblur` lifts blurred frames
16 → 38 % after zxing-roi, at 20 ms per 720p frame. Measured on the 640x480 set and dropped: CLAHE
(all classes 86 → 66 %: it amplifies noise and moiré on the flat screen), contrast stretch
(86 → 85 %), 3×3 median (86 → 65 %).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .base import Gray

Step = Callable[[Gray], Gray]


def sharpen(gray: Gray) -> Gray:
    """Unsharp mask (σ 2 px, amount 1.5): steepens module edges softened by defocus."""
    soft = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return np.asarray(cv2.addWeighted(gray, 2.5, soft, -1.5, 0), np.uint8)


def up2(gray: Gray) -> Gray:
    """2× bicubic upscale: gives the binariser more than ~2 px per module on small codes."""
    return np.asarray(cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), np.uint8)


def deblur(gray: Gray) -> Gray:
    """Wiener deconvolution for a Gaussian defocus of σ 2 px (noise-to-signal 0.01)."""
    h, w = gray.shape
    spectrum = np.fft.rfft2(gray.astype(np.float32))
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    otf = np.exp(-2 * np.pi**2 * 2.0**2 * (fx**2 + fy**2))
    out = np.fft.irfft2(spectrum * otf / (otf * otf + 0.01), s=(h, w))
    return np.clip(out, 0, 255).astype(np.uint8)


STEPS: dict[str, Step] = {"sharpen": sharpen, "up2": up2, "deblur": deblur}
