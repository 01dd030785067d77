"""Figures of a simulated day: waits per bundle, window utilisation, no-shows, wait-estimate error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .engine import DayResult, Outcome


def pct(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100), linear interpolation (numpy's default, as the daily report)."""
    return float(np.percentile(values, p)) if len(values) else None


def r1(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def waits(outcomes: Sequence[Outcome]) -> list[float]:
    """Minutes from taking the ticket to its first call, for every ticket that was called."""
    return [o.first_call - o.citizen.arrive for o in outcomes if o.first_call is not None]


def _group(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    w = waits(outcomes)
    quoted = [(o.quoted_min, o.first_call - o.citizen.arrive) for o in outcomes
              if o.quoted_min is not None and o.first_call is not None]
    return {
        "arrivals": len(outcomes),
        "served": sum(o.served for o in outcomes),
        "no_show": sum(o.no_show for o in outcomes),
        "wait_p50_min": r1(pct(w, 50)), "wait_p90_min": r1(pct(w, 90)),
        "wait_max_min": r1(max(w) if w else None),
        "estimate_mae_min": r1(float(np.mean([abs(q - a) for q, a in quoted])) if quoted else None),
        "estimate_bias_min": r1(float(np.mean([q - a for q, a in quoted])) if quoted else None),
        "quoted": len(quoted),
    }


def quote_ranges(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The honest-estimate ranges (services/quotes.py) tried on the simulated day, out of sample: the
    errors of the first half of the quoted tickets (by arrival) calibrate the ranges quoted to the
    second half, whose calls are checked against the end of their range."""
    from ..services.quotes import calibrate

    quoted = sorted((o.citizen.arrive, o.quoted_min, o.first_call - o.citizen.arrive) for o in outcomes
                    if o.quoted_min is not None and o.first_call is not None)
    half = len(quoted) // 2
    cal = calibrate([(actual, q, None) for _, q, actual in quoted[:half]])
    ranged = [(actual, cal.range_for(q)) for _, q, actual in quoted[half:]]
    ranged = [(actual, r) for actual, r in ranged if r is not None]
    within = sum(1 for actual, r in ranged if actual <= r[1]) / len(ranged) if ranged else None
    return {"calibrated_on": half, "checked": len(ranged), "mode": cal.mode,
            "within_share": None if within is None else round(within, 3),
            "width_median_min": r1(pct([r[1] - r[0] for _, r in ranged], 50)) if ranged else None}


def clock(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def summarise(result: DayResult, names: Mapping[str, str], opens_min: float,
              closes_min: float) -> dict[str, Any]:
    """The day's figures as plain data (the --json output)."""
    by: dict[str, list[Outcome]] = {}
    for o in result.outcomes:
        by.setdefault(o.citizen.bundle, []).append(o)
    span = closes_min - opens_min
    windows = [{"number": s.number, "name": s.name, "served": s.served, "no_show": s.no_shows,
                "busy_min": round(s.busy_min, 1), "utilisation": round(s.busy_min / span, 3)}
               for s in result.windows]
    util = [s.busy_min / span for s in result.windows]
    return {
        "hall": {**_group(result.outcomes),
                 "windows": len(windows),
                 "utilisation_mean": round(float(np.mean(util)), 3) if util else None,
                 "last_finish": clock(result.end_min),
                 "overtime_min": round(max(result.end_min - closes_min, 0.0), 1),
                 "quote_ranges": quote_ranges(result.outcomes)},
        "bundles": [{"code": code, "name": names.get(code, code), **_group(items)}
                    for code, items in sorted(by.items(), key=lambda kv: -len(kv[1]))],
        "windows": windows,
    }


def short(name: str) -> str:
    """不动产登记一件事（二手房…） -> 不动产登记"""
    return name.split("（")[0].removesuffix("一件事")


def _cell(v: object) -> str:
    return "—" if v is None else str(v)


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain text table, columns padded to their widest cell (CJK counted double)."""
    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    cells = [[_cell(v) for v in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join((c + " " * (widths[i] - width(c))) if i == 0 else
                         (" " * (widths[i] - width(c)) + c) for i, c in enumerate(r))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def text(summary: Mapping[str, Any], title: str) -> str:
    """The human-readable report."""
    h = summary["hall"]
    rows = [(short(b["name"]), b["arrivals"], b["served"], b["no_show"], b["wait_p50_min"],
             b["wait_p90_min"], b["wait_max_min"], b["estimate_mae_min"], b["estimate_bias_min"])
            for b in summary["bundles"]]
    rows.append(("hall", h["arrivals"], h["served"], h["no_show"], h["wait_p50_min"],
                 h["wait_p90_min"], h["wait_max_min"], h["estimate_mae_min"], h["estimate_bias_min"]))
    util = sorted(w["utilisation"] for w in summary["windows"])
    lines = [
        title,
        table(rows, ("bundle", "arrivals", "served", "no-show", "wait p50", "p90", "max",
                     "estimate MAE", "bias")),
        "",
        f"waits in minutes from taking the ticket to the first call; estimate MAE = mean |quoted wait − "
        f"actual wait| over {h['quoted']} quoted tickets (bias > 0: quotes too long)",
        f"windows: {h['windows']}, utilisation mean {h['utilisation_mean']:.0%}, "
        f"min {util[0]:.0%}, median {pct(util, 50):.0%}, max {util[-1]:.0%}; "
        f"last service ends {h['last_finish']} (overtime {h['overtime_min']} min)",
    ]
    q = h["quote_ranges"]
    if q["within_share"] is not None:
        lines.append(f"quoted ranges (calibrated on the first {q['calibrated_on']} quotes, checked on the "
                     f"next {q['checked']}): {q['within_share']:.0%} called by the end of their range, "
                     f"median width {q['width_median_min']} min")
    return "\n".join(lines)
