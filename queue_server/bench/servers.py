"""Server processes under test: started in their own session, waited for, measured, always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

READY_TIMEOUT_S = 60


class ServerFailed(RuntimeError):
    """A server process did not come up (or died); carries the tail of its log."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the bench itself is killed (no orphaned servers even on SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Server:
    args: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    ready_path: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc else None
                raise ServerFailed(f"server on port {self.port} exited with status {code}", self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise ServerFailed(f"server on port {self.port} not ready in {READY_TIMEOUT_S} s", self.log_tail())

    def stop(self) -> None:
        """SIGTERM to the server's whole process group (its workers too), SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        with contextlib.suppress(ProcessLookupError, PermissionError):  # what is left of the group
            os.killpg(self.proc.pid, signal.SIGKILL)


@dataclass
class Fleet:
    """The N processes of one system under test, with a sampler of their memory."""

    servers: list[Server]
    peak_rss: int = 0
    started_pids: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    def start(self) -> None:
        self._stop = threading.Event()
        for s in self.servers:
            s.start()
        self.started_pids += self.pids()
        deadline = time.monotonic() + READY_TIMEOUT_S
        for s in self.servers:
            s.wait_ready(deadline)
        self._sampler = threading.Thread(target=self._sample, daemon=True, name="rss-sampler")
        self._sampler.start()

    def restart(self) -> None:
        """Fresh processes on the same ports and database: one phase's heap does not blur the next's."""
        self.stop()
        self.start()

    def check_alive(self) -> None:
        for s in self.servers:
            if s.proc is None or s.proc.poll() is not None:
                raise ServerFailed(f"server on port {s.port} died during the run", s.log_tail())

    def stop(self) -> None:
        self._stop.set()
        for s in self.servers:
            s.stop()

    def _processes(self) -> list[psutil.Process]:
        procs: list[psutil.Process] = []
        for s in self.servers:
            if s.proc is None:
                continue
            try:
                p = psutil.Process(s.proc.pid)
                procs += [p, *p.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return procs

    def rss(self) -> int:
        total = 0
        for p in self._processes():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self._processes():
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                continue
        return total

    def threads(self) -> int:
        total = 0
        for p in self._processes():
            try:
                total += p.num_threads()
            except psutil.NoSuchProcess:
                continue
        return total

    def quiesce(self, idle_cores: float = 0.1, timeout: float = 60.0) -> float:
        """Wait until the servers use under `idle_cores` of CPU over a second (work left over from
        a phase would blur the next one's figures); returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            before = self.cpu_seconds()
            time.sleep(1.0)
            if self.cpu_seconds() - before < idle_cores:
                break
        return round(time.monotonic() - started, 1)

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.servers if s.proc is not None]

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_rss = max(self.peak_rss, self.rss())


def server_env(secret_key: str, instance: Path, channel: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHALL_")}
    env.update(GOVHALL_SECRET_KEY=secret_key, GOVHALL_INSTANCE_PATH=str(instance),
               GOVHALL_REDIS_CHANNEL=channel, PYTHONUNBUFFERED="1")
    return env


def govhall_fleet(n: int, database_url: str, async_mode: str, redis_url: str | None,
                  env: dict[str, str], folder: Path) -> Fleet:
    """N `govhall serve` processes sharing the database (and Redis, for live events)."""
    servers = []
    for _ in range(n):
        port = free_port()
        args = [sys.executable, "-m", "queue_server.launch", "serve", "--host", "127.0.0.1",
                "--port", str(port), "--database-url", database_url, "--async-mode", async_mode]
        if redis_url:
            args += ["--redis-url", redis_url]
        servers.append(Server(args, env, port, folder / f"govhall-{port}.log", "/api/v1/health"))
    return Fleet(servers)


def baseline_fleet(n: int, database_url: str, async_mode: str, redis_url: str | None,
                   env: dict[str, str], folder: Path) -> Fleet:
    """N bare Flask-SocketIO processes (queue_server.bench.baseline), configured alike."""
    servers = []
    for _ in range(n):
        port = free_port()
        args = [sys.executable, "-m", "queue_server.bench.baseline", "--port", str(port),
                "--database-url", database_url, "--async-mode", async_mode]
        if redis_url:
            args += ["--redis-url", redis_url, "--channel", env["GOVHALL_REDIS_CHANNEL"] + "-base"]
        servers.append(Server(args, env, port, folder / f"baseline-{port}.log", "/health"))
    return Fleet(servers)
