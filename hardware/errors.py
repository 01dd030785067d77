"""The one error every device driver raises at its edge: the kiosk reports it and carries on."""

from __future__ import annotations


class DeviceError(Exception):
    """A device failed or is missing (STYLE.md "Devices": OSError becomes DeviceError at the edge)."""

    code = "device_error"
