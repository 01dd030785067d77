"""The terminal's devices, opened from the specs given to `govhall kiosk` (each may be `sim`).

QR: `sim`, `camera:0` / `camera:/dev/video0`, `wedge:PATH` (a keyboard-wedge scanner's text), `none`.
ID card reader: `sim` (the pseudo-terminal simulator, driven by the real serial driver), a serial
port such as `/dev/ttyUSB0`, or `none`. Printer: a python-escpos spec (`usb:VID:PID`, `serial:DEV`,
`tcp:HOST:PORT`, `file:PATH`) or `sim`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Devices:
    qr: Any = None
    idcard: Any = None
    printer: Any = None
    qr_sim: Any = None  # the simulated sources, so the demo and tests can scan and place cards
    card_sim: Any = None
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:  # closing a device that is gone: nothing left to release
                log.debug("closing a device failed", exc_info=True)


def open_qr(spec: str, devices: Devices) -> None:
    if spec == "none":
        return
    if spec == "sim":
        from hardware.qr import SimulatedQrSource

        devices.qr = devices.qr_sim = SimulatedQrSource()
        return
    kind, _, target = spec.partition(":")
    if kind == "camera":
        from hardware.qr import CameraQrSource

        source = CameraQrSource(int(target) if target.isdigit() else target)
        source.start()
        devices.qr = source
        devices.closers.append(source.close)
    elif kind == "wedge":
        from hardware.qr import WedgeQrSource

        stream = open(target, encoding="utf-8", errors="replace")  # noqa: SIM115 - read for the agent's life
        devices.qr = WedgeQrSource(stream)
        devices.closers.append(stream.close)
    else:
        raise ValueError(f"unknown QR source {spec!r}: use sim, camera:N, wedge:PATH or none")


def open_idcard(spec: str, devices: Devices) -> None:
    if spec == "none":
        return
    from hardware.idcard import SerialIdCardReader

    port = spec
    if spec == "sim":
        from hardware.idcard import SimulatedReader

        sim = SimulatedReader()
        sim.start()
        devices.card_sim = sim
        devices.closers.append(sim.stop)
        port = sim.port
    reader = SerialIdCardReader(port)
    devices.idcard = reader
    devices.closers.append(reader.close)


def open_devices(qr: str, idcard: str, printer: str, paper: int = 80) -> Devices:
    """Open what can be opened; a device that fails is logged and left out (the others still work)."""
    from hardware.printer import open_printer

    devices = Devices()
    for name, opener, spec in (("qr", open_qr, qr), ("idcard", open_idcard, idcard)):
        try:
            opener(spec, devices)
        except Exception as e:  # a missing device must not stop the kiosk
            log.warning("device %s (%s) unavailable: %s", name, spec, e)
    if printer != "none":
        try:
            devices.printer = open_printer(printer, paper)
        except Exception as e:
            log.warning("printer (%s) unavailable: %s", printer, e)
    return devices
