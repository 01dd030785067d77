"""QR codes for the kiosk: camera and keyboard-wedge sources, decoders, simulators.

The kiosk agent programs against `QrSource.read(timeout) -> str | None`:
`CameraQrSource(0)` (decodes with `default_chain()`), `WedgeQrSource(stream)` or `.feed(chars)`,
`SimulatedQrSource` for the demo, `FrameFileSource(paths)` to play images through the real decoders.
Names load on first use, so `govhall` commands that never touch QR do not import OpenCV or numpy
(and still run on a server without them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import (
        CameraUnavailable,
        Decoder,
        DecoderUnavailable,
        Dedupe,
        DeviceError,
        Gray,
        QrSource,
        ScannerClosed,
    )
    from .camera import CameraQrSource
    from .decoders import DEFAULT_CHAIN, Chain, default_chain
    from .sim import FrameFileSource, SimulatedQrSource
    from .wedge import WedgeQrSource

_HOME = {
    "CameraUnavailable": "base",
    "Decoder": "base",
    "DecoderUnavailable": "base",
    "Dedupe": "base",
    "DeviceError": "base",
    "Gray": "base",
    "QrSource": "base",
    "ScannerClosed": "base",
    "CameraQrSource": "camera",
    "DEFAULT_CHAIN": "decoders",
    "Chain": "decoders",
    "default_chain": "decoders",
    "FrameFileSource": "sim",
    "SimulatedQrSource": "sim",
    "WedgeQrSource": "wedge",
}

__all__ = [
    "DEFAULT_CHAIN",
    "CameraQrSource",
    "CameraUnavailable",
    "Chain",
    "Decoder",
    "DecoderUnavailable",
    "Dedupe",
    "DeviceError",
    "FrameFileSource",
    "Gray",
    "QrSource",
    "ScannerClosed",
    "SimulatedQrSource",
    "WedgeQrSource",
    "default_chain",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
