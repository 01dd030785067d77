"""Synthetic kiosk-camera frames of a phone screen showing a govhall code, deterministic from a seed.

Each frame: a cluttered grey service-hall background (out of focus), a phone (bezel, white screen,
header bar, text lines) showing a QR of a fresh token shaped like our code ("GH1:" + base45 of a
99-byte token, 153 alphanumeric characters, version 6-M; hardware.md §4.2), placed with a small
tilt, then a baseline camera (blur σ 0.6 px, noise σ 3, JPEG q85 like an MJPEG webcam).
Distortion classes follow hardware.md §3. The frame is drawn at twice the size and area-averaged, so
module edges are anti-aliased like a real sensor's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import segno
from numpy.typing import NDArray

from .base import Gray

CLASSES = ("clean", "rotation", "perspective", "blur", "low_contrast", "noise", "moire_glare", "small")
SIZES: dict[str, tuple[int, int]] = {"640x480": (640, 480), "1280x720": (1280, 720)}
PREFIX = "GH1:"
TOKEN_BYTES = 99  # 35 signed bytes + 64-byte Ed25519 signature (hardware.md §4.2)
QUIET = 4  # modules of quiet zone; the white screen around the code provides it
SUPERSAMPLE = 2
B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

Float = NDArray[np.float32]
Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Frame:
    image: Gray
    token: str | None  # None: no code on this frame
    kind: str  # distortion class, or "none"


@dataclass(frozen=True, slots=True)
class _Shot:
    """How one frame is taken: geometry in frame pixels, then what the camera adds."""

    ppm: float  # frame pixels per QR module
    angle: float  # degrees
    jitter: float = 0.0  # perspective corner jitter, fraction of the phone width
    blur: float = 0.0  # extra Gaussian σ in pixels, on top of the camera's 0.6
    noise: float = 3.0
    contrast: int | None = None  # grey levels the whole frame is squeezed into
    moire_glare: bool = False


def base45(data: bytes) -> str:
    """RFC 9285 base45 text of `data`."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [B45[n % 45], B45[n // 45 % 45], B45[n // 2025]]
    if len(data) % 2:
        out += [B45[data[-1] % 45], B45[data[-1] // 45]]
    return "".join(out)


def make_token(rng: np.random.Generator) -> str:
    """A fresh random token with the shape of our signed code (not a valid signature)."""
    return PREFIX + base45(rng.bytes(TOKEN_BYTES))


def qr_modules(text: str) -> NDArray[np.bool_]:
    """Dark modules (True) of the version-6-M QR of `text`, quiet zone excluded."""
    qr = segno.make_qr(text, error="m", boost_error=False)
    return np.array(qr.matrix, dtype=bool)


def frame(seed: int, kind: str, index: int, size: tuple[int, int] = (640, 480)) -> Frame:
    """Frame `index` of distortion class `kind` ("none": a phone without a code) for `seed`."""
    rng = np.random.default_rng([seed, (*CLASSES, "none").index(kind), index, size[0]])
    token = None if kind == "none" else make_token(rng)
    shot = _shot(kind, rng)
    return Frame(_render(rng, token, shot, size), token, kind)


def frames(seed: int, kind: str, count: int, size: tuple[int, int] = (640, 480)) -> list[Frame]:
    """The first `count` frames of class `kind`."""
    return [frame(seed, kind, i, size) for i in range(count)]


def _shot(kind: str, rng: np.random.Generator) -> _Shot:
    tilt = float(rng.uniform(-8, 8))
    ppm = float(rng.uniform(2.5, 4.2))  # clean: 2.5-4.2 px/module (hardware.md §3)
    if kind == "rotation":
        return _Shot(ppm, float(rng.uniform(15, 180) * rng.choice([-1, 1])))
    if kind == "perspective":
        return _Shot(ppm, tilt, jitter=float(rng.uniform(0.08, 0.20)))
    if kind == "blur":
        return _Shot(ppm, tilt, blur=float(rng.uniform(1.5, 3.0)))
    if kind == "low_contrast":
        return _Shot(ppm, tilt, contrast=int(rng.integers(30, 51)))
    if kind == "noise":
        return _Shot(ppm, tilt, noise=float(rng.uniform(18, 35)))
    if kind == "moire_glare":
        return _Shot(ppm, tilt, moire_glare=True)
    if kind == "small":
        return _Shot(float(rng.uniform(1.4, 2.2)), tilt)
    if kind in ("clean", "none"):
        return _Shot(ppm, tilt)
    raise ValueError(f"unknown distortion class {kind!r}; known: {', '.join(CLASSES)}")


def _render(rng: np.random.Generator, token: str | None, shot: _Shot, size: tuple[int, int]) -> Gray:
    w, h = size
    big = (w * SUPERSAMPLE, h * SUPERSAMPLE)
    canvas = _hall(rng, big)
    modules = qr_modules(token) if token else np.zeros((41, 41), dtype=bool)
    k = max(2, math.ceil(shot.ppm * SUPERSAMPLE))  # phone drawn at ~1:1, so warping barely resamples
    phone, alpha, qr_box = _phone(rng, modules if token else None, k)
    warp = _placement(rng, shot, k, phone.shape, qr_box, big)
    ph = cv2.warpPerspective(phone, warp, big, flags=cv2.INTER_LINEAR, borderValue=0)
    al = cv2.warpPerspective(alpha, warp, big, flags=cv2.INTER_LINEAR, borderValue=0)
    canvas = canvas * (1 - al) + ph * al
    img = _f32(cv2.resize(canvas, size, interpolation=cv2.INTER_AREA))
    screen = _f32(cv2.resize(al, size, interpolation=cv2.INTER_AREA))
    qr_centre = _apply(warp, np.array([[(qr_box[0] + qr_box[2]) / 2, (qr_box[1] + qr_box[3]) / 2]]))
    return _camera(rng, img, screen, shot, qr_centre[0] / SUPERSAMPLE, shot.ppm * 49)


def _hall(rng: np.random.Generator, size: tuple[int, int]) -> Float:
    """Wall, floor, counters, signs and notices, lamps: grey clutter, out of focus."""
    w, h = size
    horizon = int(h * rng.uniform(0.45, 0.7))
    img = np.empty((h, w), np.float32)
    img[:horizon] = np.linspace(rng.uniform(120, 190), rng.uniform(100, 170), horizon)[:, None]
    img[horizon:] = np.linspace(rng.uniform(80, 140), rng.uniform(60, 120), h - horizon)[:, None]
    for _ in range(int(rng.integers(10, 25))):  # counters, signs, windows, people's clothes
        x0, y0 = int(rng.integers(-w // 10, w)), int(rng.integers(-h // 10, h))
        x1, y1 = x0 + int(rng.integers(w // 20, w // 3)), y0 + int(rng.integers(h // 20, h // 3))
        cv2.rectangle(img, (x0, y0), (x1, y1), float(rng.uniform(30, 235)), -1)
        if rng.random() < 0.5:  # a notice with lines of characters
            _text_lines(rng, img, (x0, y0, x1, y1), float(rng.uniform(20, 90)))
    for _ in range(int(rng.integers(3, 9))):  # frames, rails, floor joints
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p0, p1, float(rng.uniform(20, 240)), int(rng.integers(2, 10)))
    for _ in range(int(rng.integers(1, 5))):  # lamps, clocks
        centre = (int(rng.integers(0, w)), int(rng.integers(0, horizon)))
        cv2.circle(img, centre, int(rng.integers(8, h // 10)), float(rng.uniform(150, 255)), -1)
    # The lens is focused on a phone 20-35 cm away; the hall behind is soft.
    return _f32(cv2.GaussianBlur(img, (0, 0), float(rng.uniform(1.5, 4.0)) * SUPERSAMPLE / 2))


def _text_lines(rng: np.random.Generator, img: Float, box: tuple[int, int, int, int], ink: float) -> None:
    x0, y0, x1, y1 = box
    line = max(4, (y1 - y0) // 8)
    for y in range(y0 + line, y1 - line, line * 2):
        x = x0 + line
        while x < x1 - 2 * line:
            word = int(rng.integers(line, line * 5))
            cv2.rectangle(img, (x, y), (min(x + word, x1 - line), y + line), ink, -1)
            x += word + line


def _phone(
    rng: np.random.Generator, modules: NDArray[np.bool_] | None, k: int
) -> tuple[Float, Float, tuple[float, float, float, float]]:
    """The phone at `k` px per module: image, outline alpha, and the code's box incl. quiet zone."""
    qr_px = (41 + 2 * QUIET) * k
    sw = int(qr_px * rng.uniform(1.2, 1.45))
    sh = int(sw * rng.uniform(1.9, 2.1))
    bezel = max(2, int(sw * 0.05))
    pw, ph = sw + 2 * bezel, sh + 3 * bezel
    img = np.full((ph, pw), float(rng.uniform(8, 40)), np.float32)
    white = float(rng.uniform(225, 255))
    img[2 * bezel : 2 * bezel + sh, bezel : bezel + sw] = white
    top, left = 2 * bezel, bezel
    img[top : top + sh // 12, left : left + sw] = float(rng.uniform(70, 170))  # app header bar
    qx, qy = left + (sw - qr_px) // 2, top + int(sh * rng.uniform(0.16, 0.3))
    _text_lines(rng, img, (left, qy + qr_px, left + sw, top + sh), float(rng.uniform(40, 110)))
    _text_lines(rng, img, (left, top + sh // 12, left + sw, qy), float(rng.uniform(40, 110)))
    img[qy : qy + qr_px, qx : qx + qr_px] = white
    if modules is not None:
        ink = float(rng.uniform(0, 35))
        dark = np.repeat(np.repeat(modules, k, axis=0), k, axis=1)
        area = img[qy + QUIET * k : qy + (QUIET + 41) * k, qx + QUIET * k : qx + (QUIET + 41) * k]
        area[dark] = ink
    alpha = np.zeros((ph, pw), np.float32)
    r = int(pw * 0.12)
    cv2.rectangle(alpha, (r, 0), (pw - 1 - r, ph - 1), 1.0, -1)
    cv2.rectangle(alpha, (0, r), (pw - 1, ph - 1 - r), 1.0, -1)
    for cx, cy in ((r, r), (pw - 1 - r, r), (r, ph - 1 - r), (pw - 1 - r, ph - 1 - r)):
        cv2.circle(alpha, (cx, cy), r, 1.0, -1)
    return img, alpha, (float(qx), float(qy), float(qx + qr_px), float(qy + qr_px))


def _placement(
    rng: np.random.Generator,
    shot: _Shot,
    k: int,
    phone_shape: tuple[int, ...],
    qr_box: tuple[float, float, float, float],
    size: tuple[int, int],
) -> Matrix:
    """Homography from phone pixels to the (supersampled) frame with the code wholly inside."""
    ph, pw = phone_shape[:2]
    scale = shot.ppm * SUPERSAMPLE / k
    cx, cy = (qr_box[0] + qr_box[2]) / 2, (qr_box[1] + qr_box[3]) / 2
    a = math.radians(shot.angle)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    h = np.array([[c, -s, -c * cx + s * cy], [s, c, -s * cx - c * cy], [0, 0, 1]], np.float64)
    if shot.jitter:
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64)
        dst = _apply(h, src)
        dst += rng.uniform(-1, 1, dst.shape) * shot.jitter * pw * scale
        side = int(rng.integers(0, 4))  # keystone: one edge seen from further away
        a_, b_ = dst[side].copy(), dst[(side + 1) % 4].copy()
        squeeze = float(rng.uniform(0.05, 0.15))
        dst[side], dst[(side + 1) % 4] = a_ + (b_ - a_) * squeeze, b_ + (a_ - b_) * squeeze
        fitted = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
        h = np.asarray(fitted, np.float64)
    q = _apply(h, np.array([[qr_box[0], qr_box[1]], [qr_box[2], qr_box[1]],
                            [qr_box[2], qr_box[3]], [qr_box[0], qr_box[3]]], np.float64))
    lo, hi = q.min(axis=0), q.max(axis=0)
    margin = 4 * SUPERSAMPLE
    tx = rng.uniform(margin - lo[0], max(margin - lo[0], size[0] - margin - hi[0]))
    ty = rng.uniform(margin - lo[1], max(margin - lo[1], size[1] - margin - hi[1]))
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], np.float64)
    return np.asarray(shift @ h, np.float64)


def _f32(a: object) -> Float:
    return np.asarray(a, np.float32)


def _apply(h: Matrix, pts: Matrix) -> Matrix:
    p = np.c_[pts, np.ones(len(pts))] @ h.T
    return np.asarray(p[:, :2] / p[:, 2:], np.float64)


def _camera(
    rng: np.random.Generator, img: Float, screen: Float, shot: _Shot, qr_centre: Matrix, qr_px: float
) -> Gray:
    """Glare, lens blur, sensor moiré, exposure, noise and MJPEG compression, in that order."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if shot.moire_glare:  # a ceiling lamp reflected on the screen, partly over the code
        gx, gy = qr_centre + rng.uniform(-0.4, 0.4, 2) * qr_px
        r = qr_px * rng.uniform(0.12, 0.3)
        blob = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r))
        img = img + blob * float(rng.uniform(90, 160)) * screen
    sigma = math.hypot(0.6, shot.blur)
    img = _f32(cv2.GaussianBlur(img, (0, 0), sigma))
    if shot.moire_glare:  # the screen's pixel grid beating with the sensor's
        period, depth, theta = rng.uniform(2.5, 6), rng.uniform(0.12, 0.25), rng.uniform(0, math.pi)
        wave = np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
        img = img * (1 - depth * screen * (0.5 + 0.5 * wave))
    img = np.clip(img, 0, 255)
    if shot.contrast is not None:
        low = float(rng.uniform(40, 255 - shot.contrast - 40))
        img = low + img * (shot.contrast / 255.0)
    img = img + rng.normal(0, shot.noise, img.shape).astype(np.float32)
    gray = np.clip(img, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:  # pragma: no cover - OpenCV always has a JPEG codec
        return gray
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE), np.uint8)
