"""The window-allocation advisor: local search over allocations, judged by the simulated day.

Every candidate is simulated on the same drawn days (common random numbers), so a difference in
its figures comes from the allocation alone. The objective is the hall's 90th-percentile wait plus
the worst bundle's 90th-percentile wait (bundles with enough tickets to have one), so the average
cannot be bought by starving a small bundle; a move is kept only when it lowers the objective and
does not raise the hall's p90, hence the advice is never worse than today's allocation on those days.

Moves, aimed at the bundle with the longest p90 and taking from the least busy windows:
- `join`: a window joins the target bundle's team (takes the ranks of the most common window that has
  the target as primary, or the target alone);
- `help`: a window adds the target bundle at rank 2 (兼办);
each applied to 1 or to 3 windows of the same kind at once.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .arrivals import Citizen
from .engine import Day, DayResult, Rules
from .profile import Allocation, WindowPlan
from .report import pct, waits

MIN_TICKETS_FOR_P90 = 20  # a bundle's p90 over fewer pooled tickets is noise, not a target


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a simulated day starts from: the rules, the drawn days, and (for a live run) the state."""

    rules: Rules
    days: Sequence[Sequence[Citizen]]
    start_min: float
    history: Mapping[str, Sequence[float]] = field(default_factory=dict)
    busy_until: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Evaluation:
    hall_p90: float
    worst_p90: float
    bundle_p50: Mapping[str, float]
    bundle_p90: Mapping[str, float]
    utilisation: Mapping[int, float]  # window number -> busy share of the simulated span

    @property
    def objective(self) -> float:
        return self.hall_p90 + self.worst_p90


@dataclass(frozen=True, slots=True)
class Move:
    kind: str  # join | help
    bundle: str
    windows: tuple[int, ...]  # window numbers

    def describe(self, names: Mapping[str, str]) -> str:
        nums = "、".join(str(n) for n in self.windows)
        what = "改为主办" if self.kind == "join" else "兼办"
        return f"{nums}号窗口{what}“{names.get(self.bundle, self.bundle)}”"


@dataclass(frozen=True, slots=True)
class Advice:
    today: Allocation
    proposed: Allocation
    today_eval: Evaluation
    proposed_eval: Evaluation
    moves: tuple[Move, ...]
    evaluations: int
    seconds: float


def simulate(allocation: Allocation, scenario: Scenario, day: Sequence[Citizen]) -> DayResult:
    return Day(allocation, scenario.rules, quotes=False, history=scenario.history,
               busy_until=scenario.busy_until).run(day, scenario.start_min)


def evaluate(allocation: Allocation, scenario: Scenario) -> Evaluation:
    """Waits pooled over the scenario's days, and each window's mean utilisation."""
    pooled: dict[str, list[float]] = {}
    busy: dict[int, float] = defaultdict(float)
    span = 0.0
    for day in scenario.days:
        # yield between days: under a monkey-patched server (eventlet, gevent) time.sleep(0) lets
        # the hub serve other requests and sockets while a manager's advice is computed
        time.sleep(0)
        result = simulate(allocation, scenario, day)
        for o in result.outcomes:
            if o.first_call is not None:
                pooled.setdefault(o.citizen.bundle, []).append(o.first_call - o.citizen.arrive)
        for s in result.windows:
            busy[s.number] += s.busy_min
        span += max(scenario.rules.closes_min - scenario.start_min, 1.0)
    every = [w for ws in pooled.values() for w in ws]
    p50 = {b: pct(ws, 50) or 0.0 for b, ws in pooled.items()}
    p90 = {b: pct(ws, 90) or 0.0 for b, ws in pooled.items()}
    judged = [p90[b] for b, ws in pooled.items() if len(ws) >= MIN_TICKETS_FOR_P90]
    return Evaluation(
        hall_p90=pct(every, 90) or 0.0, worst_p90=max(judged, default=0.0),
        bundle_p50=p50, bundle_p90=p90,
        utilisation={w.number: busy[w.number] / span for w in allocation},
    )


def _signature(w: WindowPlan) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(w.ranks.items()))


def _team_ranks(allocation: Allocation, bundle: str) -> dict[str, int]:
    """The ranks of the most common window that has `bundle` as its primary, or `bundle` alone."""
    teams = Counter(_signature(w) for w in allocation
                    if w.ranks.get(bundle) == 1 and len(w.ranks) <= 4)
    return dict(teams.most_common(1)[0][0]) if teams else {bundle: 1}


def apply(allocation: Allocation, move: Move) -> Allocation:
    chosen = set(move.windows)
    team = _team_ranks(allocation, move.bundle) if move.kind == "join" else {}
    out = []
    for w in allocation:
        if w.number not in chosen:
            out.append(w)
        elif move.kind == "join":
            out.append(WindowPlan(w.number, w.name, dict(team)))
        else:
            out.append(WindowPlan(w.number, w.name, {**w.ranks, move.bundle: 2}))
    return tuple(out)


def candidates(allocation: Allocation, ev: Evaluation, targets: int = 2, donors: int = 3) -> list[Move]:
    """Promising moves, most promising first."""
    ranked = sorted(ev.bundle_p90, key=lambda b: -ev.bundle_p90[b])[:targets]
    moves: list[Move] = []
    for bundle in ranked:
        # windows grouped by kind (same ranks), least busy kinds first
        groups: dict[tuple[tuple[str, int], ...], list[WindowPlan]] = {}
        for w in allocation:
            if w.ranks.get(bundle) != 1:
                groups.setdefault(_signature(w), []).append(w)
        by_use = sorted(groups.values(),
                        key=lambda ws: sum(ev.utilisation[w.number] for w in ws) / len(ws))
        for ws in by_use[:donors]:
            ws = sorted(ws, key=lambda w: ev.utilisation[w.number])
            for n in (1, 3):
                if len(ws) >= n:
                    nums = tuple(w.number for w in ws[:n])
                    moves.append(Move("join", bundle, nums))
                    if bundle not in ws[0].ranks:
                        moves.append(Move("help", bundle, nums))
    return list(dict.fromkeys(moves))


def better(new: Evaluation, old: Evaluation) -> bool:
    return new.objective < old.objective - 0.05 and new.hall_p90 <= old.hall_p90


_SCENARIO: Scenario | None = None  # a worker process's copy, set once by the pool initializer


def _init_worker(scenario: Scenario) -> None:
    global _SCENARIO
    _SCENARIO = scenario


def _evaluate_in_worker(allocation: Allocation) -> Evaluation:
    if _SCENARIO is None:
        raise RuntimeError("worker started without a scenario")
    return evaluate(allocation, _SCENARIO)


def advise(allocation: Allocation, scenario: Scenario, budget_s: float = 30.0,
           max_moves: int = 40, progress: Callable[[str], None] | None = None,
           workers: int = 1) -> Advice:
    """Search from today's allocation until no move helps, `max_moves`, or the time budget.

    With `workers` > 1 the candidates are simulated in that many forked processes, a batch at a
    time, and the best improving candidate of the first batch that has one is taken.
    """
    started = time.perf_counter()
    if workers > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(scenario,)) as pool:
            return _search(allocation, scenario, started, budget_s, max_moves, progress,
                           workers, lambda allocs: pool.map(_evaluate_in_worker, allocs))
    return _search(allocation, scenario, started, budget_s, max_moves, progress, 1,
                   lambda allocs: [evaluate(a, scenario) for a in allocs])


def _search(allocation: Allocation, scenario: Scenario, started: float, budget_s: float,
            max_moves: int, progress: Callable[[str], None] | None, batch: int,
            run: Callable[[list[Allocation]], list[Evaluation]]) -> Advice:
    today_eval = current_eval = run([allocation])[0]
    current, count = allocation, 1
    moves: list[Move] = []
    while len(moves) < max_moves and time.perf_counter() - started < budget_s:
        found = None
        # the near neighbourhood first; a wider one before giving up
        near = candidates(current, current_eval)
        order = near + [m for m in candidates(current, current_eval, 4, 6) if m not in set(near)]
        for i in range(0, len(order), batch):
            if time.perf_counter() - started >= budget_s:
                break
            trials = [(m, apply(current, m)) for m in order[i:i + batch]]
            results = run([t for _, t in trials])
            count += len(trials)
            good = [(ev.objective, k) for k, ev in enumerate(results) if better(ev, current_eval)]
            if good:
                k = min(good)[1]
                found = (trials[k][0], trials[k][1], results[k])
                break  # first improving batch: cheap steps, many of them
        if found is None:
            break
        move, current, current_eval = found
        moves.append(move)
        if progress:
            progress(f"move {len(moves)}: {move.kind} {move.bundle} {move.windows} -> hall p90 "
                     f"{current_eval.hall_p90:.1f} min, worst {current_eval.worst_p90:.1f} min")
    return Advice(allocation, current, today_eval, current_eval, tuple(moves), count,
                  time.perf_counter() - started)


def changes(before: Allocation, after: Allocation) -> list[tuple[WindowPlan, WindowPlan]]:
    """The windows whose ranks differ, as (today, proposed)."""
    return [(a, b) for a, b in zip(before, after, strict=True) if dict(a.ranks) != dict(b.ranks)]


def waits_of(result: DayResult) -> list[float]:
    return waits(result.outcomes)
