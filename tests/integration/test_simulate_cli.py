"""`govhall simulate-day`: the table, the JSON, the advice, and a bad profile's error naming the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from queue_server.cli import main

from ..unit.test_simulate import SMALL


def profile(tmp_path: Path, text: str = SMALL) -> str:
    path = tmp_path / "hall.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_json_report_with_advice(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate-day", "--profile", profile(tmp_path), "--seed", "5",
                                       "--json", "--advise", "--budget", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    hall = data["hall"]
    assert hall["arrivals"] == hall["served"] + hall["no_show"] > 150
    assert {b["code"] for b in data["bundles"]} == {"real-estate", "social-security-card", "newborn"}
    assert all(b["wait_p50_min"] <= b["wait_p90_min"] <= b["wait_max_min"] for b in data["bundles"])
    assert hall["quoted"] > 0 and hall["estimate_mae_min"] >= 0
    ranges = hall["quote_ranges"]  # the honest-estimate ranges, checked out of sample on the day
    assert ranges["calibrated_on"] + ranges["checked"] <= hall["quoted"] and ranges["checked"] > 0
    assert 0 <= ranges["within_share"] <= 1 and ranges["width_median_min"] >= 0
    assert len(data["windows"]) == 8 and all(0 < w["utilisation"] <= 1.5 for w in data["windows"])
    advice = data["advice"]
    assert advice["advised"]["hall_p90_min"] <= advice["today"]["hall_p90_min"]
    assert len(advice["allocation"]) == 8
    assert len(advice["changes"]) == sum(1 for a, b in zip(
        advice["allocation"], _today(data, tmp_path), strict=True) if a["bundles"] != b)


def _today(data: dict, tmp_path: Path) -> list[list[dict]]:
    from queue_server.simulate.cli import allocation_json
    from queue_server.simulate.profile import load_profile

    return [w["bundles"] for w in allocation_json(load_profile(Path(data["profile"])).allocation)]


def test_human_readable_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate-day", "--profile", profile(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "wait p50" in result.output and "estimate MAE" in result.output
    assert "不动产登记" in result.output and "utilisation mean" in result.output


def test_a_bad_profile_exits_with_the_field_named(tmp_path: Path) -> None:
    bad = profile(tmp_path, SMALL.replace("mean_min: 8", "mean_min: -1"))
    result = CliRunner().invoke(main, ["simulate-day", "--profile", bad])
    assert result.exit_code == 1
    assert "bundles.real-estate.service.mean_min" in result.output


def test_the_console_script_runs_the_shipped_profile() -> None:
    shipped = Path(__file__).resolve().parents[2] / "assets" / "profiles" / "city_hall.yaml"
    out = subprocess.run([sys.executable, "-m", "queue_server.cli", "simulate-day", "--profile",
                          str(shipped), "--json"], capture_output=True, text=True, timeout=120, check=True)
    hall = json.loads(out.stdout)["hall"]
    assert hall["windows"] == 150 and 7500 < hall["arrivals"] < 8500
