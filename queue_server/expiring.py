"""Values a server process keeps for a few seconds instead of reading them on every request."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Expiring(Generic[K, V]):
    """A value per key, kept for `ttl_s` seconds (0, the default outside a server: not kept).

    Each entry expires somewhere in the second half of the interval, so entries loaded together
    (at start-up, or by kiosks that started together) are not all read again in the same instant.
    A change made on this process should `discard` or `clear` what it changed; another server
    process sees it within `ttl_s`.
    """

    def __init__(self, ttl_s: float = 0.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries  # reached: emptied (a flood of unknown keys cannot grow it)
        self._held: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        held = self._held.get(key)
        if held is not None and time.monotonic() < held[1]:
            return held[0]
        return None

    def put(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        expires = time.monotonic() + self.ttl_s * random.uniform(0.5, 1.0)  # noqa: S311 - not a secret
        with self._lock:
            if len(self._held) >= self.max_entries:
                self._held.clear()
            self._held[key] = (value, expires)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        held = self.get(key)
        if held is not None:
            return held
        value = load()
        self.put(key, value)
        return value

    def pop(self, key: K) -> None:
        with self._lock:
            self._held.pop(key, None)

    def discard(self, where: Callable[[K], bool]) -> None:
        with self._lock:
            for key in [k for k in self._held if where(k)]:
                del self._held[key]

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
