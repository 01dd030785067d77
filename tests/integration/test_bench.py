"""`govhall bench --json` end to end: a tiny run through the CLI as a subprocess, on SQLite and on
PostgreSQL with two server processes behind Redis. Shapes and counts only, never timings.

Both runs start together (module fixture) so the module costs one run's time, not two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from queue_server.cli import main

from ..conftest import PG_URL, REDIS_URL, service_missing

TINY = ["--halls", "2", "--screens", "10", "--ticket-rate", "10", "--call-rate", "2", "--duration", "3"]
TICKETS, CALLS, SCREENS_PER_HALL = 30, 6, 5


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    err_path: Path
    result: dict | None = None

    def finish(self) -> dict:
        if self.result is None:
            out, _ = self.proc.communicate(timeout=240)
            err = self.err_path.read_text()
            assert self.proc.returncode == 0, f"bench failed ({self.proc.returncode}):\n{out.decode()}\n{err}"
            self.result = json.loads(out)
            assert "[bench govhall take" in err  # the progress line on stderr
        return self.result


def _start(tmp: Path, name: str, *extra: str) -> Run:
    err = tmp / f"{name}.err"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "queue_server.cli", "bench", "--json", *TINY, *extra],
                                stdout=subprocess.PIPE, stderr=stderr)
    return Run(proc, err)


def _services() -> str | None:
    """Why PostgreSQL or Redis cannot be used here, or None when both answer."""
    import redis
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(PG_URL, poolclass=NullPool)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as e:  # any driver or connection error means "not here"
        return repr(e)
    return None


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run | str]]:
    tmp = tmp_path_factory.mktemp("bench")
    started: dict[str, Run | str] = {"sqlite": _start(tmp, "sqlite")}
    missing = _services()
    # the baseline is measured in the SQLite run only, to keep the module near one run's time
    started["postgres"] = missing or _start(tmp, "postgres", "--database-url", PG_URL, "--processes", "2",
                                            "--redis-url", REDIS_URL, "--no-baseline")
    yield started
    for run in started.values():
        if isinstance(run, Run):
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
            if run.proc.stdout is not None:  # a run no selected test finished: its pipe is still open
                run.proc.stdout.close()


def _check(result: dict, processes: int, baseline: bool) -> None:
    take, call = result["take_number"], result["call_to_screen"]
    for key in ("p50_ms", "p99_ms", "rate", "errors"):
        assert key in take
    for key in ("p50_ms", "p99_ms", "delivered", "missed", "duplicated"):
        assert key in call
    assert set(result["baseline"]) >= {"take_number_p99_ms", "call_to_screen_p99_ms"}
    assert set(result["ratios"]) == {"take_number_p99", "call_to_screen_p99"}
    assert set(result["memory"]) >= {"kb_per_screen", "db_mb_per_10k_tickets"}
    assert isinstance(result["cpu_s_per_1k_tickets"], float)
    assert result["machine"]["cores"] == os.cpu_count()
    assert result["parameters"]["halls"] == 2 and result["parameters"]["processes"] == processes
    assert result["date"]
    # every ticket asked for was taken, without an error
    assert take["requested"] == take["ok"] == take["created"] == TICKETS and take["errors"] == 0
    # every call reached every screen of its hall, once
    assert result["calls"]["ok"] == call["calls"] == CALLS
    assert result["screens"]["connected"] == 10
    assert call["delivered"] == CALLS * SCREENS_PER_HALL
    assert call["missed"] == 0 and call["duplicated"] == 0 and call["unexpected"] == 0
    servers, started = list(result["servers"]), list(result["server_pids"])
    if baseline:  # the bare stack ran under the same load and delivered alike
        base = result["baseline"]
        assert base["take_number"]["ok"] == base["take_number"]["created"] == TICKETS
        assert base["take_number_errors"] == 0
        assert base["call_to_screen_delivered"] == CALLS * SCREENS_PER_HALL
        assert base["call_to_screen_missed"] == 0
        assert isinstance(result["ratios"]["take_number_p99"], float)
        servers += base["servers"]
        started += base["server_pids"]
    else:
        assert result["baseline"]["skipped"] and result["ratios"]["take_number_p99"] is None
    # the servers were processes of their own (fresh ones for the call phase), none left behind
    assert len(servers) == (2 if baseline else 1) * processes == len({s["pid"] for s in servers})
    assert len(started) == 2 * len(servers) == len(set(started))
    assert {s["pid"] for s in servers} <= set(started)
    assert not set(started) & {os.getpid(), result["bench_pid"]}
    assert not [pid for pid in started if psutil.pid_exists(pid)]


def test_tiny_bench_on_sqlite(runs: dict[str, Run | str]):
    run = runs["sqlite"]
    assert isinstance(run, Run)
    result = run.finish()
    _check(result, processes=1, baseline=True)
    assert result["parameters"]["database"] == "sqlite"


@pytest.mark.postgres
@pytest.mark.redis
def test_tiny_bench_on_postgresql_with_two_processes_and_redis(runs: dict[str, Run | str]):
    run = runs["postgres"]
    if isinstance(run, str):
        service_missing("PostgreSQL and Redis", run)
    assert isinstance(run, Run)
    result = run.finish()
    _check(result, processes=2, baseline=False)
    assert result["parameters"]["database"] == "postgresql"
    urls = {s["url"] for s in result["servers"]}
    assert len(urls) == 2


def test_several_processes_need_redis():
    result = CliRunner().invoke(main, ["bench", "--json", "--processes", "2", "--no-baseline"])
    assert result.exit_code != 0
    assert json.loads(result.output.splitlines()[0])["error"]["code"] == "bench_failed"


def test_the_qr_benchmark_is_still_a_subcommand():
    result = CliRunner().invoke(main, ["bench", "qr", "--help"])
    assert result.exit_code == 0 and "--per-class" in result.output
