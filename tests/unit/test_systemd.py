"""Every unit in systemd/ passes `systemd-analyze verify` (with this checkout's govhall binary)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "systemd").glob("*.service"))
GOVHALL = ROOT / ".venv" / "bin" / "govhall"
INSTANCES = {"govhall-display@.service": "govhall-display@display-hall-demo.service",
             "govhall-server@.service": "govhall-server@5001.service"}


def _analyzer() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("GOVHALL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail("systemd-analyze is required here but missing")
        pytest.skip("systemd-analyze not installed")
    return path


def _prepare(unit: Path, folder: Path) -> Path:
    """A copy of `unit` runnable here: the real govhall path, a real browser or /bin/true."""
    text = unit.read_text(encoding="utf-8").replace("/opt/govhall/.venv/bin/govhall", str(GOVHALL))
    if not Path("/usr/bin/chromium").exists():
        text = text.replace("/usr/bin/chromium", "/bin/true")
    target = folder / INSTANCES.get(unit.name, unit.name)
    target.write_text(text, encoding="utf-8")
    return target


def test_there_are_units() -> None:
    names = {u.name for u in UNITS}
    assert {"govhall-server.service", "govhall-kiosk-agent.service",
            "govhall-kiosk-browser.service", "govhall-display@.service"} <= names


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    analyzer = _analyzer()
    if unit.name == "govhall-kiosk-browser.service":
        _prepare(ROOT / "systemd" / "govhall-kiosk-agent.service", tmp_path)  # its Requires=
    copy = _prepare(unit, tmp_path)
    run = subprocess.run([analyzer, "verify", "--man=no", str(copy)], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path, check=False)
    errors = [line for line in run.stderr.splitlines()
              if copy.name in line or "error" in line.lower() or "invalid" in line.lower()]
    assert run.returncode == 0 and not errors, run.stderr


def test_kiosk_units_keep_their_promises() -> None:
    agent = (ROOT / "systemd" / "govhall-kiosk-agent.service").read_text(encoding="utf-8")
    browser = (ROOT / "systemd" / "govhall-kiosk-browser.service").read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/govhall/kiosk.env" in agent and "Restart=on-failure" in agent
    assert "/agent/ready" in agent and "govhall kiosk" in agent
    assert "Requires=govhall-kiosk-agent.service" in browser and "Restart=always" in browser
    assert "--kiosk" in browser and "http://127.0.0.1:8765/kiosk/" in browser
