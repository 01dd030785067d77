"""Group commit: concurrent requests are written together, each caller gets its own outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from queue_server.groupcommit import ALONE, GroupCommit


class Recorder:
    def __init__(self, pause: float = 0.05) -> None:
        self.batches: list[list[int]] = []
        self.pause = pause

    def write(self, items: Sequence[int]) -> list[object]:
        self.batches.append(list(items))
        time.sleep(self.pause)  # a transaction in flight: the others queue meanwhile
        return [ALONE if i % 5 == 0 else i * 10 for i in items]


def submit_all(group: GroupCommit, items: list[int]) -> dict[int, object]:
    got: dict[int, object] = {}

    def one(i: int) -> None:
        try:
            got[i] = group.submit(i)
        except Exception as error:  # recorded, asserted by the caller
            got[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in items]
    for t in threads:
        t.start()
        time.sleep(0.002)
    for t in threads:
        t.join(10)
    return got


def test_requests_arriving_during_a_write_are_written_together_in_arrival_order() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.write)
    got = submit_all(group, list(range(1, 31)))
    assert got == {i: ALONE if i % 5 == 0 else i * 10 for i in range(1, 31)}
    assert sorted(i for batch in recorder.batches for i in batch) == list(range(1, 31))  # each once
    assert recorder.batches[0] == [1]  # the first leads alone; the rest queued behind it
    assert len(recorder.batches) < 10 and max(map(len, recorder.batches)) > 3
    assert all(batch == sorted(batch) for batch in recorder.batches)
    assert (group.batches, group.items) == (len(recorder.batches), 30)


def test_a_batch_never_exceeds_its_limit() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.write, limit=4)
    got = submit_all(group, list(range(1, 21)))
    assert len(got) == 20
    assert max(map(len, recorder.batches)) == 4


def test_a_failed_write_is_raised_to_every_caller_of_its_batch_and_the_next_batch_still_runs() -> None:
    calls = []

    def write(items: Sequence[int]) -> list[object]:
        calls.append(list(items))
        time.sleep(0.05)
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return list(items)

    group = GroupCommit(write)
    got = submit_all(group, [1, 2, 3, 4])
    assert isinstance(got[1], RuntimeError) and str(got[1]) == "database gone"
    assert [got[i] for i in calls[1]] == calls[1]  # the queued ones were written by the next leader
    assert group.submit(9) == 9  # and nothing stays stuck


def test_an_outcome_that_is_an_exception_is_raised_to_its_caller_only() -> None:
    group = GroupCommit(lambda items: [ValueError(i) if i == 2 else i for i in items])
    assert group.submit(1) == 1
    with pytest.raises(ValueError, match="2"):
        group.submit(2)


def test_a_write_returning_the_wrong_number_of_outcomes_is_an_error() -> None:
    group = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 outcomes for 1 items"):
        group.submit(1)
