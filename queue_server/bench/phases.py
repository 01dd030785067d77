"""The phases of one system under test (govhall or the baseline): take numbers, then call to screens.

Worker processes are forked from a clean fork server (no threads or sockets of the bench inherited,
and no second import of the command line); their messages are
read here, a progress line per second goes to stderr, and every worker is ended before returning.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import load
from .load import Outcome, ScreenLog, Shot
from .prepare import Fixture
from .servers import Fleet
from .stats import call_to_screen, percentile, summarise_http

SCREENS_PER_WORKER = 1000
SETTLE_S = 1.0  # after the screens subscribed, before memory is read (plus 1 s per 1,000 screens)
DRAIN_S = 2.0  # after the last call, for events still on their way


@dataclass
class Target:
    """How to speak to one system under test."""

    name: str  # govhall | baseline
    fleet: Fleet

    def take_shot(self, server: str, hall: str, token: str, bundle: str) -> Shot:
        if self.name == "baseline":
            return Shot(f"{server}/ticket", None, {"hall": hall, "bundle": bundle}, hall, idempotent=True)
        return Shot(f"{server}/api/v1/halls/{hall}/tickets", token, {"bundle": bundle}, hall, idempotent=True)

    def call_shot(self, server: str, hall: str, window_id: int, number: int, token: str) -> Shot:
        if self.name == "baseline":
            return Shot(f"{server}/call", None, {"hall": hall, "window": number}, hall)
        return Shot(f"{server}/api/v1/windows/{window_id}/call-next", token, {}, hall)


@dataclass
class Progress:
    """Collects worker messages; prints one line a second on stderr."""

    label: str
    quiet: bool = False
    latencies: list[float] = field(default_factory=list)
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    last_line: float = 0.0

    def take(self, role: str, data: dict[str, Any]) -> None:
        self.latencies += data.pop("latencies", [])
        self.errors += data.pop("errors", 0)
        self.state[role] = data

    def line(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self.last_line < 1.0):
            return
        self.last_line = now
        parts = [f"[bench {self.label} {now - self.started:5.1f}s]"]
        for role, data in sorted(self.state.items()):
            parts.append(role + " " + " ".join(f"{k} {v}" for k, v in data.items()))
        p99 = percentile(self.latencies, 99)
        parts.append(f"errors {self.errors}")
        if p99 is not None:
            parts.append(f"p99 {p99:.1f} ms")
        print("  ".join(parts), file=sys.stderr, flush=True)


class Workers:
    """Spawned load processes and the queue they report on."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload(["queue_server.bench.load", "aiohttp", "socketio"])
        self.out = self.ctx.Queue()
        self.procs: dict[str, Any] = {}

    def start(self, role: str, target: Callable[..., None], *args: Any) -> None:
        proc = self.ctx.Process(target=target, args=(role, *args, self.out) if target is load.http_worker
                                else (role, *args), name=f"bench-{role}", daemon=True)
        proc.start()
        self.procs[role] = proc

    def wait(self, kinds: set[str], roles: set[str], progress: Progress, fleet: Fleet,
             timeout: float) -> dict[str, Any]:
        """Read messages until each role sent one of `kinds`; fail on a dead worker or server."""
        got: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        while roles - got.keys():
            if time.monotonic() > deadline:
                late = sorted(roles - got.keys())
                raise RuntimeError(f"load workers {late} gave no answer in {timeout:.0f} s")
            try:
                kind, role, data = self.out.get(timeout=0.5)
            except queue.Empty:
                kind = role = data = None
            if kind == "progress":
                progress.take(role, data)
            elif kind == "failed":
                raise RuntimeError(f"load worker {role} failed: {data}")
            elif kind in kinds and role in roles:
                got[role] = data
            for r in roles - got.keys():
                proc = self.procs.get(r)
                if proc is not None and not proc.is_alive() and proc.exitcode not in (None, 0):
                    raise RuntimeError(f"load worker {r} died with status {proc.exitcode}")
            fleet.check_alive()
            progress.line()
        progress.line(force=True)
        return got

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(2)
        self.procs.clear()


def take_shots(target: Target, fixture: Fixture, rate: float, duration: float, seed: int) -> list[Shot]:
    rng = random.Random(seed)  # noqa: S311 - a repeatable choice of bundles, not a secret
    servers = target.fleet.urls
    kiosks = fixture.kiosks()
    count = round(rate * duration)
    return [target.take_shot(servers[(i % len(kiosks)) % len(servers)], *kiosks[i % len(kiosks)],
                             rng.choice(fixture.bundles)) for i in range(count)]


def call_shots(target: Target, fixture: Fixture, rate: float, duration: float) -> list[Shot]:
    servers = target.fleet.urls
    windows = fixture.call_windows()
    shots = []
    for i in range(round(rate * duration)):
        j = i % len(windows)
        hall, seat = windows[j]
        shots.append(target.call_shot(servers[j % len(servers)], hall, seat.id, seat.number, seat.token))
    return shots


def calls_per_hall(fixture: Fixture, rate: float, duration: float) -> Counter[str]:
    windows = fixture.call_windows()
    return Counter(windows[i % len(windows)][0] for i in range(round(rate * duration)))


def warm_up(target: Target, fixture: Fixture, calls: bool) -> None:
    """A ticket (and a call) per server before measuring: first-request costs are not the load's."""
    import json
    import urllib.error
    import urllib.request

    shots = take_shots(target, fixture, 1, len(target.fleet.urls), seed=0)
    if calls:
        shots += call_shots(target, fixture, 1, len(target.fleet.urls))
    for shot in shots:
        headers = {"Content-Type": "application/json"}
        if shot.token:
            headers["Authorization"] = f"Bearer {shot.token}"
        body = json.dumps(shot.body).encode()
        req = urllib.request.Request(shot.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=load.REQUEST_TIMEOUT_S) as r:  # noqa: S310 - our server
                r.read()
        except (urllib.error.URLError, OSError):
            continue  # the measured phase will show it


def run_http(workers: Workers, role: str, shots: list[Shot], rate: float, fleet: Fleet,
             progress: Progress) -> list[Outcome]:
    if not shots:
        return []
    workers.start(role, load.http_worker, shots, rate)
    timeout = len(shots) / rate + load.REQUEST_TIMEOUT_S + 60
    result: list[Outcome] = workers.wait({"result"}, {role}, progress, fleet, timeout)[role]
    return result


def take_phase(target: Target, fixture: Fixture, rate: float, duration: float, label: str,
               quiet: bool, seed: int = 1) -> dict[str, Any]:
    """Kiosks take numbers for `duration` s at `rate`; the latency summary."""
    workers = Workers()
    progress = Progress(f"{label} take {rate:g}/s", quiet)
    try:
        outcomes = run_http(workers, "kiosks", take_shots(target, fixture, rate, duration, seed), rate,
                            target.fleet, progress)
    finally:
        workers.stop()
    return summarise_http(outcomes, rate, duration)


def call_phase(target: Target, fixture: Fixture, screens: int, rate: float, duration: float,
               label: str, quiet: bool) -> dict[str, Any]:
    """Screens subscribe across the halls, windows call at `rate`; delivery at every screen."""
    servers = target.fleet.urls
    halls = [h.code for h in fixture.halls]
    specs = [(servers[(s // len(halls)) % len(servers)], halls[s % len(halls)]) for s in range(screens)]
    workers = Workers()
    progress = Progress(f"{label} call {rate:g}/s", quiet)
    stop = workers.ctx.Event()
    try:
        rss0, threads0 = target.fleet.rss(), target.fleet.threads()
        n = math.ceil(screens / SCREENS_PER_WORKER)  # 2,000 screens: two processes, one per core
        chunks = [specs[i::n] for i in range(n)]
        roles = {f"screens{i + 1}" for i in range(len(chunks))}
        connecting = time.monotonic()
        for i, chunk in enumerate(chunks):
            workers.start(f"screens{i + 1}", load.screen_worker, chunk, workers.out, stop)
        ready = workers.wait({"ready"}, roles, progress, target.fleet, 120 + screens / 5)
        connect_s = time.monotonic() - connecting
        time.sleep(SETTLE_S + screens / 1000)
        rss1, threads1 = target.fleet.rss(), target.fleet.threads()
        connected = sum(r["connected"] for r in ready.values())
        outcomes = run_http(workers, "windows", call_shots(target, fixture, rate, duration), rate,
                            target.fleet, progress)
        time.sleep(DRAIN_S)
        stop.set()
        results = workers.wait({"result"}, roles, progress, target.fleet, 60 + screens / 20)
    finally:
        stop.set()
        workers.stop()
    logs: list[ScreenLog] = [log for r in results.values() for log in r]
    summary = call_to_screen(outcomes, logs)
    calls = summarise_http(outcomes, rate, duration, ok_codes=(200,))
    calls["queue_empty"] = calls["status_errors"].pop("409", 0)  # reported apart: not a failure
    calls["errors"] -= calls["queue_empty"]
    return {
        "call_to_screen": summary,
        "calls": calls,
        "screens": {"requested": screens, "connected": connected, "connect_s": round(connect_s, 1),
                    "errors": [e for r in ready.values() for e in r["errors"]][:5]},
        "kb_per_screen": round((rss1 - rss0) / 1024 / connected, 1) if connected else None,
        "threads_before_screens": threads0,
        "threads_with_screens": threads1,
        "rss_with_screens_mb": round(rss1 / 1e6, 1),
    }
