"""The simulated hall, run in OS processes of its own: kiosks and windows over HTTP, screens over Socket.IO.

Requests go out OPEN-LOOP: request i is due at start + i / rate whatever happened to the earlier
ones, and its latency counts from that due time, so a server that stalls shows its stall instead of
slowing the load down (coordinated omission). Each worker reports progress every second and its
results once at the end through a multiprocessing queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

REQUEST_TIMEOUT_S = 10.0
CONNECT_AT_ONCE = 50  # screens opening their connection at the same time


@dataclass(frozen=True)
class Shot:
    """One scheduled request."""

    url: str
    token: str | None
    body: dict[str, Any]
    hall: str
    idempotent: bool = False


@dataclass(frozen=True)
class Outcome:
    due: float  # wall time the request was due (time.time())
    sent: float  # wall time it actually went out: sent - due is the load generator's own lag
    latency_ms: float | None  # from due to the full response; None on a timeout or connection error
    status: int  # HTTP status; 0 for no response
    hall: str
    number: str | None  # ticket number in the answer


async def _send(session: Any, shot: Shot, due: float) -> Outcome:
    import aiohttp

    headers = {"Authorization": f"Bearer {shot.token}"} if shot.token else {}
    if shot.idempotent:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    sent = time.time()
    try:
        async with session.post(shot.url, json=shot.body, headers=headers) as r:
            data = await r.json(content_type=None)
            status = r.status
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError):  # no answer: counted, never lost
        return Outcome(due, sent, None, 0, shot.hall, None)
    latency = (time.time() - due) * 1000
    number = None
    if isinstance(data, dict):
        ticket = data.get("ticket") if isinstance(data.get("ticket"), dict) else data
        number = ticket.get("number") if isinstance(ticket, dict) else None
    return Outcome(due, sent, latency, status, shot.hall, number)


async def _open_loop(role: str, shots: list[Shot], rate: float, out: Any) -> list[Outcome]:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0)
    done: list[Outcome] = []
    reported = 0
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        # The schedule starts once this process is up, so its own start-up is not counted as lag.
        start_at = time.time() + 0.2
        mono0 = loop.time() + 0.2
        tasks: set[asyncio.Task[Outcome]] = set()
        next_report = loop.time() + 1

        def finished(t: asyncio.Task[Outcome]) -> None:
            tasks.discard(t)
            done.append(t.result())

        for i, shot in enumerate(shots):
            due_mono = mono0 + i / rate
            delay = due_mono - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = loop.create_task(_send(session, shot, start_at + i / rate))
            tasks.add(task)
            task.add_done_callback(finished)
            if loop.time() >= next_report:
                next_report += 1
                reported = _report(out, role, i + 1, done, reported)
        while tasks:
            await asyncio.sleep(0.25)
            if loop.time() >= next_report:
                next_report += 1
                reported = _report(out, role, len(shots), done, reported)
    _report(out, role, len(shots), done, reported)
    return done


def _report(out: Any, role: str, sent: int, done: list[Outcome], reported: int) -> int:
    fresh = done[reported:]
    # a window finding its queue empty (409) is reported apart, not as an error
    empty_ok = 409 if role == "windows" else None
    errors = sum(1 for o in fresh if not 200 <= o.status < 300 and o.status != empty_ok)
    out.put(("progress", role, {"sent": sent, "done": len(done), "errors": errors,
                                "latencies": [o.latency_ms for o in fresh if o.latency_ms is not None]}))
    return len(done)


def http_worker(role: str, shots: list[Shot], rate: float, out: Any) -> None:
    """Process entry: send `shots` open-loop at `rate`; put the outcomes on `out`."""
    try:
        outcomes = asyncio.run(_open_loop(role, shots, rate, out))
        out.put(("result", role, outcomes))
    except BaseException as e:
        out.put(("failed", role, repr(e)))
        raise


# --- screens ---------------------------------------------------------------------------------


@dataclass
class ScreenLog:
    """One screen: when it was subscribed (intervals) and each ticket_called it got, with wall times."""

    hall: str
    server: str
    subscribed: list[list[float | None]]  # [from, until]; until None while still subscribed
    received: list[tuple[str, str, bool, float]]  # (hall, number, recall, wall time)
    error: str | None = None


async def _screen(url: str, hall: str, session: Any, gate: asyncio.Semaphore) -> tuple[Any, ScreenLog]:
    import socketio

    log = ScreenLog(hall=hall, server=url, subscribed=[], received=[])
    sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2,
                               handle_sigint=False, http_session=session)

    async def subscribe() -> None:
        answer = await sio.call("subscribe", {"hall": hall, "screen": "hall"}, namespace="/hall", timeout=30)
        if isinstance(answer, dict) and answer.get("ok"):
            log.subscribed.append([time.time(), None])
        else:
            log.error = f"subscribe refused: {answer!r}"

    async def on_connect() -> None:
        if log.subscribed:  # a reconnect: subscribe again, as the real screens do
            sio.start_background_task(subscribe)

    async def on_disconnect(*_: Any) -> None:
        if log.subscribed and log.subscribed[-1][1] is None:
            log.subscribed[-1][1] = time.time()

    async def on_called(data: Any) -> None:
        at = time.time()
        ticket = data.get("ticket") or {}
        log.received.append((str(data.get("hall")), str(ticket.get("number")), bool(data.get("recall")), at))

    sio.on("connect", on_connect, namespace="/hall")
    sio.on("disconnect", on_disconnect, namespace="/hall")
    sio.on("ticket_called", on_called, namespace="/hall")

    async with gate:
        try:
            await sio.connect(url, namespaces=["/hall"], transports=["websocket"], wait_timeout=30)
            await subscribe()
        except Exception as e:  # counted as a screen that never connected; the run goes on
            log.error = f"{type(e).__name__}: {e}"
    return sio, log


async def _screens(specs: list[tuple[str, str]], out: Any, stop: Any, role: str) -> list[ScreenLog]:
    import aiohttp

    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = [asyncio.create_task(_screen(url, hall, session, gate)) for url, hall in specs]
        while not all(t.done() for t in tasks):
            await asyncio.sleep(1)
            ready = sum(1 for t in tasks if t.done() and t.result()[1].subscribed)
            out.put(("progress", role, {"connected": ready, "of": len(specs)}))
        pairs = [t.result() for t in tasks]
        logs = [log for _, log in pairs]
        out.put(("ready", role, {"connected": sum(1 for lg in logs if lg.subscribed),
                                 "errors": [lg.error for lg in logs if lg.error][:5]}))
        while not stop.is_set():
            await asyncio.sleep(0.1)
        # Stop counting before the clients go: a disconnect caused by the bench is no missed event.
        stopped_at = time.time()
        for log in logs:
            if log.subscribed and log.subscribed[-1][1] is None:
                log.subscribed[-1][1] = stopped_at
        gate = asyncio.Semaphore(200)

        async def close(sio: Any) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sio.disconnect(), 5)

        await asyncio.gather(*(close(sio) for sio, _ in pairs))
    return logs


def screen_worker(role: str, specs: list[tuple[str, str]], out: Any, stop: Any) -> None:
    """Process entry: connect and subscribe every (server url, hall) screen, log until `stop` is set."""
    import logging

    # The clients log "packet queue is empty, aborting" when the bench closes them: not news.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    try:
        logs = asyncio.run(_screens(specs, out, stop, role))
        out.put(("result", role, logs))
    except BaseException as e:
        out.put(("failed", role, repr(e)))
        raise
