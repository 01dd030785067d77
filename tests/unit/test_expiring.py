"""The few-seconds caches of a server process (tokens, window loads, surge thresholds)."""

from __future__ import annotations

from queue_server.expiring import Expiring


def test_nothing_is_kept_without_a_ttl() -> None:
    cache: Expiring[str, int] = Expiring()
    loads = []
    assert cache.get_or_load("a", lambda: loads.append(1) or 1) == 1
    assert cache.get_or_load("a", lambda: loads.append(2) or 2) == 2
    assert loads == [1, 2] and cache.get("a") is None


def test_kept_until_discarded_or_cleared() -> None:
    cache: Expiring[tuple[str, int], str] = Expiring(ttl_s=60)
    cache.put(("demo", 1), "x")
    cache.put(("other", 2), "y")
    assert cache.get_or_load(("demo", 1), lambda: "reloaded") == "x"
    cache.discard(lambda key: key[0] == "demo")
    assert cache.get(("demo", 1)) is None and cache.get(("other", 2)) == "y"
    cache.clear()
    assert cache.get(("other", 2)) is None


def test_an_entry_expires_within_its_ttl(monkeypatch) -> None:
    import queue_server.expiring as expiring

    clock = [100.0]
    monkeypatch.setattr(expiring.time, "monotonic", lambda: clock[0])
    cache: Expiring[str, str] = Expiring(ttl_s=10)
    cache.put("t", "v")
    clock[0] += 4.9  # before half the interval: still there
    assert cache.get("t") == "v"
    clock[0] += 5.2  # past the whole interval: gone
    assert cache.get("t") is None
