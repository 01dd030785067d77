"""`govhall simulate-day`: a hall's day through the real queue rules, and the allocation advice."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from .advisor import Advice, Evaluation, Scenario, advise, changes, evaluate
from .arrivals import draw_day, warm_history
from .engine import Day, Rules
from .profile import Allocation, Profile, ProfileError, load_profile
from .report import r1, short, summarise, table, text

ADVISE_DAYS = 3  # drawn days the advisor judges on; the same number of fresh days check it


def rules_of(profile: Profile) -> Rules:
    return Rules(closes_min=profile.closes_min, recall_limit=profile.recall_limit,
                 requeue_places=profile.requeue_places,
                 recall_interval_min=profile.recall_interval_min, walk_min=profile.walk_min,
                 expected_min=profile.expected_min)


def allocation_json(allocation: Allocation) -> list[dict[str, Any]]:
    return [{"number": w.number, "name": w.name,
             "bundles": [{"code": c, "rank": r} for c, r in sorted(w.ranks.items(), key=lambda x: x[1])]}
            for w in allocation]


def _compare(names: dict[str, str], today: Evaluation, proposed: Evaluation) -> list[dict[str, Any]]:
    return [{"code": b, "name": names.get(b, b),
             "today_p50_min": r1(today.bundle_p50.get(b)), "today_p90_min": r1(today.bundle_p90[b]),
             "advised_p50_min": r1(proposed.bundle_p50.get(b)),
             "advised_p90_min": r1(proposed.bundle_p90.get(b))}
            for b in sorted(today.bundle_p90, key=lambda b: -today.bundle_p90[b])]


def advice_json(advice: Advice, fresh: tuple[Evaluation, Evaluation], names: dict[str, str],
                seeds: list[int], fresh_seeds: list[int]) -> dict[str, Any]:
    return {
        "seeds": seeds, "evaluations": advice.evaluations, "seconds": round(advice.seconds, 1),
        "today": {"hall_p90_min": r1(advice.today_eval.hall_p90),
                  "worst_bundle_p90_min": r1(advice.today_eval.worst_p90)},
        "advised": {"hall_p90_min": r1(advice.proposed_eval.hall_p90),
                    "worst_bundle_p90_min": r1(advice.proposed_eval.worst_p90)},
        "fresh_days": {"seeds": fresh_seeds,
                       "today": {"hall_p90_min": r1(fresh[0].hall_p90),
                                 "worst_bundle_p90_min": r1(fresh[0].worst_p90)},
                       "advised": {"hall_p90_min": r1(fresh[1].hall_p90),
                                   "worst_bundle_p90_min": r1(fresh[1].worst_p90)}},
        "bundles": _compare(names, advice.today_eval, advice.proposed_eval),
        "moves": [m.describe(names) for m in advice.moves],
        "changes": [{"number": a.number, "name": a.name, "today": allocation_json((a,))[0]["bundles"],
                     "advised": allocation_json((b,))[0]["bundles"]}
                    for a, b in changes(advice.today, advice.proposed)],
        "allocation": allocation_json(advice.proposed),
    }


def _ranks_text(bundles: list[dict[str, Any]], names: dict[str, str]) -> str:
    label = {1: "主办", 2: "兼办"}
    return "、".join(f"{short(names.get(b['code'], b['code']))}{label.get(b['rank'], '补位')}"
                    for b in bundles) if len(bundles) <= 4 else f"全部{len(bundles)}项（综合）"


def changes_text(data: dict[str, Any], names: dict[str, str]) -> list[str]:
    """Net changes, windows with the same before and after grouped."""
    groups: dict[tuple[str, str], list[int]] = {}
    for c in data["changes"]:
        key = (_ranks_text(c["today"], names), _ranks_text(c["advised"], names))
        groups.setdefault(key, []).append(c["number"])
    return [f"  {'、'.join(map(str, sorted(nums)))}号窗口: {before} → {after}"
            for (before, after), nums in groups.items()]


def advice_text(data: dict[str, Any], names: dict[str, str]) -> str:
    rows = [(short(b["name"]), b["today_p50_min"], b["today_p90_min"], b["advised_p50_min"],
             b["advised_p90_min"]) for b in data["bundles"]]
    t, a, ft, fa = data["today"], data["advised"], data["fresh_days"]["today"], data["fresh_days"]["advised"]
    rows.append(("hall", None, t["hall_p90_min"], None, a["hall_p90_min"]))
    lines = [
        "",
        f"allocation advice ({data['evaluations']} simulated allocations × {len(data['seeds'])} days, "
        f"seeds {data['seeds']}, {data['seconds']} s)",
        table(rows, ("bundle", "today p50", "today p90", "advised p50", "advised p90")),
        f"hall p90 {t['hall_p90_min']} → {a['hall_p90_min']} min, worst bundle p90 "
        f"{t['worst_bundle_p90_min']} → {a['worst_bundle_p90_min']} min; on fresh days "
        f"{data['fresh_days']['seeds']}: hall p90 {ft['hall_p90_min']} → {fa['hall_p90_min']} min, "
        f"worst {ft['worst_bundle_p90_min']} → {fa['worst_bundle_p90_min']} min",
        "",
        f"changes ({len(data['changes'])} windows):" if data["changes"]
        else "no change improves today's allocation",
        *changes_text(data, names),
    ]
    return "\n".join(lines)


@click.command("simulate-day")
@click.option("--profile", "profile_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="hall profile (YAML), e.g. "
              "assets/profiles/city_hall.yaml")
@click.option("--seed", default=1, show_default=True, type=int, help="random seed of the drawn day")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout instead of tables")
@click.option("--advise", "advise_flag", is_flag=True, help="also search a better window allocation")
@click.option("--budget", default=45.0, show_default=True, type=click.FloatRange(1, 3600),
              help="seconds the advisor may search")
@click.option("--workers", default=min(os.cpu_count() or 1, 4), show_default="CPU count, at most 4",
              type=click.IntRange(1, 64), help="processes simulating the advisor's candidates")
def simulate_day(profile_path: Path, seed: int, as_json: bool, advise_flag: bool, budget: float,
                 workers: int) -> None:
    """Run a hall's day at simulated time through the real queue rules and report the waits."""
    try:
        profile = load_profile(profile_path)
    except ProfileError as e:
        raise click.ClickException(str(e)) from None
    rules = rules_of(profile)
    history = warm_history(profile, seed)
    result = Day(profile.allocation, rules, history=history).run(draw_day(profile, seed), profile.opens_min)
    out: dict[str, Any] = {"profile": str(profile_path), "hall_name": profile.name, "seed": seed,
                           **summarise(result, dict(profile.bundle_names), profile.opens_min,
                                       profile.closes_min)}
    if advise_flag:
        seeds = [seed + k for k in range(ADVISE_DAYS)]
        fresh_seeds = [seed + 1000 + k for k in range(ADVISE_DAYS)]
        scenario = Scenario(rules, [draw_day(profile, s) for s in seeds], profile.opens_min, history)
        note = None if as_json else (lambda m: click.echo(m, err=True))
        advice = advise(profile.allocation, scenario, budget_s=budget, progress=note,
                        workers=workers)
        check = Scenario(rules, [draw_day(profile, s) for s in fresh_seeds], profile.opens_min, history)
        fresh = (evaluate(advice.today, check), evaluate(advice.proposed, check))
        out["advice"] = advice_json(advice, fresh, dict(profile.bundle_names), seeds, fresh_seeds)
    if as_json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    click.echo(text(out, f"{profile.name}: simulated day, seed {seed}, {len(profile.allocation)} "
                         f"windows, {profile.opens_min // 60:02.0f}:{profile.opens_min % 60:02.0f}–"
                         f"{profile.closes_min // 60:02.0f}:{profile.closes_min % 60:02.0f}"))
    if "advice" in out:
        click.echo(advice_text(out["advice"], dict(profile.bundle_names)))
