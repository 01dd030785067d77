"""python-escpos, imported without the root log handler that its import adds.

`escpos.capabilities` calls `logging.basicConfig()` when imported, which gives an unconfigured root
logger a stderr handler in the default format: every library's records then go to stderr, and the
process's own `logging.basicConfig(...)` afterwards does nothing (the root already has a handler).
The driver modules import the library from here, so the handler is removed the moment it is added
and a configured root logger is left as it was; the library itself is not patched.
"""

from __future__ import annotations

import logging

_root = logging.getLogger()
_before = list(_root.handlers)

from escpos.capabilities import get_profile  # noqa: E402  (after taking note of the handlers)
from escpos.constants import QR_ECLEVEL_M  # noqa: E402
from escpos.exceptions import Error as EscposError  # noqa: E402
from escpos.printer import Dummy, File, Network, Serial, Usb  # noqa: E402

for _handler in [h for h in _root.handlers if h not in _before]:
    _root.removeHandler(_handler)

__all__ = ["QR_ECLEVEL_M", "Dummy", "EscposError", "File", "Network", "Serial", "Usb", "get_profile"]
