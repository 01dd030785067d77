"""One bench run: prepare, measure govhall, measure the bare stack alike, and put the figures together."""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from . import prepare
from .phases import Target, call_phase, calls_per_hall, take_phase, warm_up
from .servers import Fleet, baseline_fleet, govhall_fleet, server_env
from .stats import ratio

PACKAGES = ("govhall", "Flask", "Flask-SocketIO", "python-socketio", "python-engineio", "simple-websocket",
            "SQLAlchemy", "psycopg", "redis", "eventlet", "gevent", "gevent-websocket", "gunicorn",
            "aiohttp", "psutil")


@dataclass(frozen=True)
class Options:
    database_url: str | None = None
    redis_url: str | None = None
    processes: int = 1
    async_mode: str = "threading"
    halls: int = 200
    screens: int = 2000
    ticket_rate: float = 200.0
    call_rate: float = 20.0
    duration: float = 60.0
    phase: str = "all"  # take | call | all
    baseline: bool = True
    find_peak: bool = False
    peak_duration: float = 10.0
    peak_p99_ms: float = 50.0
    peak_max: float = 2000.0
    kiosks_per_hall: int | None = None
    quiet: bool = False

    @property
    def takes(self) -> bool:
        return self.phase in ("take", "all")

    @property
    def calls(self) -> bool:
        return self.phase in ("call", "all")


def machine() -> dict[str, Any]:
    import psutil

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions}


def _parameters(opts: Options, kiosks: int) -> dict[str, Any]:
    params = asdict(opts)
    params.pop("quiet")
    if params["database_url"]:
        params["database_url"] = make_url(params["database_url"]).render_as_string(hide_password=True)
    params["kiosks_per_hall"] = kiosks
    params["database"] = ("sqlite" if not opts.database_url
                          or make_url(opts.database_url).get_backend_name() == "sqlite" else "postgresql")
    return params


def run(opts: Options) -> dict[str, Any]:
    """The whole run; servers, workers, temporary files and databases are gone when it returns."""
    if opts.processes > 1 and not opts.redis_url:
        raise ValueError("several server processes need --redis-url to share live events")
    peak_rate = max(opts.ticket_rate, opts.peak_max if opts.find_peak else 0)
    from ..settings import Settings

    kiosks = opts.kiosks_per_hall or prepare.kiosks_per_hall(opts.halls, peak_rate,
                                                             Settings().ticket_rate_limit)
    out: dict[str, Any] = {"date": prepare.now_iso(), "parameters": _parameters(opts, kiosks),
                           "machine": machine(), "bench_pid": os.getpid()}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="govhall-bench-")))
        secret = secrets.token_hex(32)
        env = server_env(secret, folder, f"govhall-bench-{uuid.uuid4().hex[:8]}")
        url, created = prepare.fresh_database(opts.database_url, folder, "govhall")
        if created and opts.database_url:
            stack.callback(prepare.drop_database, opts.database_url, created)
        fixture = prepare.seed_halls(url, opts.halls, kiosks, secret)
        if opts.calls:
            need = calls_per_hall(fixture, opts.call_rate, opts.duration)
            planned = _planned_takes(fixture, opts) if opts.takes else {}
            # each warm-up call (per process, twice) takes one, the calls one each, and one stays waiting
            extra = 1 + 2 * opts.processes
            out["topped_up_tickets"] = prepare.top_up(
                url, {h: n + extra - planned.get(h, 0) for h, n in need.items()}, fixture.bundles)
        prepare.analyze(url)
        fleet = govhall_fleet(opts.processes, url, opts.async_mode, opts.redis_url, env, folder)
        ours = _measure(Target("govhall", fleet), fixture, opts, stack, url)
        out.update(ours)
        if opts.baseline:
            from .baseline import create_schema

            burl, bcreated = prepare.fresh_database(opts.database_url, folder, "base")
            if bcreated and opts.database_url:
                stack.callback(prepare.drop_database, opts.database_url, bcreated)
            create_schema(burl)
            bfleet = baseline_fleet(opts.processes, burl, opts.async_mode, opts.redis_url, env, folder)
            base = _measure(Target("baseline", bfleet), fixture, opts, stack, burl)
            out["baseline"] = _baseline_section(base)
            take, call = out["take_number"], out["call_to_screen"]
            out["ratios"] = {
                "take_number_p99": ratio(take["p99_ms"], base["take_number"]["p99_ms"]),
                "call_to_screen_p99": ratio(call["p99_ms"], base["call_to_screen"]["p99_ms"]),
            }
            if opts.find_peak:
                out["ratios"]["peak_rate"] = ratio(out["peak"]["rate"], base["peak"]["rate"])
        else:
            out["baseline"] = {"take_number_p99_ms": None, "call_to_screen_p99_ms": None, "skipped": True}
            out["ratios"] = {"take_number_p99": None, "call_to_screen_p99": None}
    return out


def _planned_takes(fixture: prepare.Fixture, opts: Options) -> dict[str, int]:
    kiosks = fixture.kiosks()
    planned: dict[str, int] = {}
    for i in range(round(opts.ticket_rate * opts.duration)):
        hall = kiosks[i % len(kiosks)][0]
        planned[hall] = planned.get(hall, 0) + 1
    return planned


def _baseline_section(base: dict[str, Any]) -> dict[str, Any]:
    take, call = base["take_number"], base["call_to_screen"]
    return {"take_number_p50_ms": take["p50_ms"], "take_number_p99_ms": take["p99_ms"],
            "take_number_rate": take["rate"], "take_number_errors": take["errors"],
            "call_to_screen_p50_ms": call["p50_ms"], "call_to_screen_p99_ms": call["p99_ms"],
            "call_to_screen_delivered": call["delivered"], "call_to_screen_missed": call["missed"],
            "take_number": take, "call_to_screen": call, "memory": base["memory"],
            "cpu_s_per_1k_tickets": base["cpu_s_per_1k_tickets"], "servers": base["servers"],
            "peak": base.get("peak"),
            "server_pids": base["server_pids"]}


def _measure(target: Target, fixture: prepare.Fixture, opts: Options, stack: ExitStack,
             url: str) -> dict[str, Any]:
    fleet: Fleet = target.fleet
    stack.callback(fleet.stop)
    fleet.start()
    label = target.name
    empty_call = {"p50_ms": None, "p99_ms": None, "delivered": 0, "missed": 0, "duplicated": 0}
    result: dict[str, Any] = {"servers": [{"pid": s.proc.pid if s.proc else None, "url": s.url}
                                          for s in fleet.servers],
                              "take_number": {"p50_ms": None, "p99_ms": None, "rate": None, "errors": 0},
                              "call_to_screen": empty_call, "cpu_s_per_1k_tickets": None}
    warm_up(target, fixture, opts.calls)
    memory: dict[str, Any] = {"rss_at_start_mb": round(fleet.rss() / 1e6, 1), "kb_per_screen": None,
                              "db_mb_per_10k_tickets": None}
    if opts.takes:
        table = "ticket" if target.name == "govhall" else "bare_ticket"
        fleet.quiesce()
        size0, rows0, cpu0 = prepare.database_mb(url), prepare.rows_in(url, table), fleet.cpu_seconds()
        take = take_phase(target, fixture, opts.ticket_rate, opts.duration, label, opts.quiet)
        # requests that timed out on the client may still be worked on: count them when done
        take["drain_s"] = fleet.quiesce()
        cpu = fleet.cpu_seconds() - cpu0
        size1, created = prepare.database_mb(url), prepare.rows_in(url, table) - rows0
        take.update(created=created, server_cpu_s=round(cpu, 2))
        result["take_number"] = take
        if created:
            result["cpu_s_per_1k_tickets"] = round(cpu / created * 1000, 2)
            memory["db_mb_per_10k_tickets"] = round((size1 - size0) / created * 10_000, 2)
        memory["db_mb_after"] = round(size1, 2)
    if opts.calls:
        if opts.takes:
            fleet.restart()  # memory per screen is read on processes the take phase did not grow
            warm_up(target, fixture, calls=True)
        fleet.quiesce()
        memory["rss_before_screens_mb"] = round(fleet.rss() / 1e6, 1)
        called = call_phase(target, fixture, opts.screens, opts.call_rate, opts.duration, label, opts.quiet)
        result["call_to_screen"] = called.pop("call_to_screen")
        result["calls"] = called.pop("calls")
        result["screens"] = called.pop("screens")
        memory["kb_per_screen"] = called.pop("kb_per_screen")
        memory.update(called)
    if opts.find_peak:  # the bare stack's too: what this machine allows, beside ours
        fleet.quiesce()
        result["peak"] = find_peak(lambda rate: take_phase(target, fixture, rate, opts.peak_duration,
                                                           f"{label} peak", opts.quiet), opts,
                                   fleet.quiesce)
    fleet.check_alive()
    memory["peak_rss_mb"] = round(max(fleet.peak_rss, fleet.rss()) / 1e6, 1)
    result["memory"] = memory
    fleet.stop()
    result["server_pids"] = fleet.started_pids
    return result


def find_peak(step: Callable[[float], dict[str, Any]], opts: Options,
              quiesce: Callable[[], object]) -> dict[str, Any]:
    """The highest offered rate with no error, p99 under the bound and ≥ 95 % of it achieved.

    Grows the rate by half from --ticket-rate until a step fails, then bisects until the gap is under
    5 % (at least 10 tickets/s). A failed step is run once more and the rate counts only if the
    repeat passes: a PostgreSQL checkpoint or a burst of expiring caches can fall into one short
    step and would otherwise end the search below what the server sustains (both runs are listed).
    """
    steps: list[dict[str, Any]] = []

    def once(rate: float, repeat: bool) -> bool:
        s = step(rate)
        ok = (s["errors"] == 0 and s["p99_ms"] is not None and s["p99_ms"] < opts.peak_p99_ms
              and s["rate"] >= 0.95 * rate)
        steps.append({"offered": rate, "rate": s["rate"], "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
                      "errors": s["errors"], "sustained": ok, "repeat": repeat})
        quiesce()  # what the server still works on belongs to this step
        return ok

    def sustained(rate: float) -> bool:
        return once(rate, False) or once(rate, True)

    lo, hi, rate = 0.0, None, max(10.0, opts.ticket_rate)
    while hi is None and rate <= opts.peak_max:
        if sustained(rate):
            lo, rate = rate, round(rate * 1.5)
        else:
            hi = rate
    while hi is not None and hi - lo > max(10.0, 0.05 * lo):
        mid = round((lo + hi) / 2)
        if sustained(mid):
            lo = mid
        else:
            hi = mid
    return {"rate": lo, "criterion": f"errors 0, p99 < {opts.peak_p99_ms:g} ms, achieved >= 95 %"
                                     " (a failed step is repeated once)",
            "step_s": opts.peak_duration, "steps": steps}


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like ^C, so the servers and workers are stopped on the way out."""
    import signal

    def _term(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, _term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
