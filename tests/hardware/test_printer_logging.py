"""Importing the printer driver leaves the process's logging as it was (python-escpos' basicConfig)."""

from __future__ import annotations

import json
import subprocess
import sys

# A fresh interpreter: in this one python-escpos was imported long ago.
PROBE = """
import json, logging
root = logging.getLogger()
before = [repr(h) for h in root.handlers]
import hardware.printer
printer = hardware.printer.open_printer("sim", 58)
printer.status()
import escpos.capabilities
print(json.dumps({"before": before, "after": [repr(h) for h in root.handlers],
                  "escpos_loaded": "escpos.printer" in __import__("sys").modules}))
"""


def probe(setup: str = "") -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", setup + PROBE], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_importing_the_printer_adds_no_root_handler() -> None:
    result = probe()
    assert result["escpos_loaded"] is True
    assert result["before"] == result["after"] == []


def test_a_configured_root_logger_keeps_exactly_its_handlers() -> None:
    result = probe("import logging\nlogging.basicConfig(level=logging.INFO)\n")
    assert len(result["before"]) == 1  # type: ignore[arg-type]
    assert result["before"] == result["after"]


def test_the_library_itself_would_add_one() -> None:
    """The guard is needed: python-escpos alone does give an unconfigured root logger a handler."""
    out = subprocess.run([sys.executable, "-c", "import logging, escpos.capabilities\n"
                          "print(len(logging.getLogger().handlers))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
