"""Group commit: the requests that arrive while one write is in flight are written by the next, together.

A hall's hottest write (taking a number) costs a transaction of a few statements, and under load
most of a request's time went to the statements' round trips and the commit, not to the rows. Here
the first request to arrive leads: it writes every request waiting at that moment (up to `limit`)
in one transaction, then hands the lead to the first request that arrived meanwhile. Alone, a
request is written as before; under a burst the batches grow and the cost per request falls, so a
burst queues for a few milliseconds instead of thrashing the database with transactions.

No thread of its own: whoever leads writes, with the locks and events of the server's async mode
(gevent and eventlet patch `threading`), so it works the same in a test and behind gunicorn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Alone:
    """The outcome of a request the batch left out: its caller writes it on its own."""

    def __repr__(self) -> str:
        return "ALONE"


ALONE = _Alone()


class _Waiter(Generic[Item]):
    __slots__ = ("item", "leads", "outcome", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.wake = threading.Event()
        self.outcome: object = ALONE
        self.leads = False


class GroupCommit(Generic[Item, Result]):
    """`submit(item)` returns `write(batch)`'s outcome for the item: a result, `ALONE`, or raises.

    `write` gets the items in arrival order and returns one outcome per item: the item's result,
    `ALONE` (the caller does it alone: refused, or needing a path the batch does not take), or an
    exception, raised in the item's caller. If `write` itself raises, every item of the batch gets
    that exception.
    """

    def __init__(self, write: Callable[[Sequence[Item]], Sequence[object]], limit: int = 64) -> None:
        self._write = write
        self._limit = limit
        self._lock = threading.Lock()
        self._queue: list[_Waiter[Item]] = []
        self._busy = False
        self.batches = 0  # written so far (and items, below): how much grouping happened
        self.items = 0

    def submit(self, item: Item) -> Result | _Alone:
        me = _Waiter(item)
        with self._lock:
            self._queue.append(me)
            leads = not self._busy
            self._busy = True
        if not leads:
            me.wake.wait()
            leads = me.leads
        if leads:
            self._lead()
        if isinstance(me.outcome, BaseException):
            raise me.outcome
        return me.outcome  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:self._limit], self._queue[self._limit:]
        outcomes: Sequence[object] = [ALONE] * len(batch)  # if interrupted, each writes alone
        try:
            written = self._write([w.item for w in batch])
            if len(written) != len(batch):
                raise RuntimeError(f"group commit: {len(written)} outcomes for {len(batch)} items")
            outcomes = written
        except Exception as error:  # every caller of the batch sees it
            outcomes = [error] * len(batch)
        finally:
            # Hand over and wake even when interrupted (a greenlet killed mid-write), or all stall.
            with self._lock:
                self.batches += 1
                self.items += len(batch)
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._busy = False
                else:
                    successor.leads = True
            if successor is not None:
                successor.wake.set()
            for waiter, outcome in zip(batch, outcomes, strict=True):
                waiter.outcome = outcome
                waiter.wake.set()
