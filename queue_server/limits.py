"""Rate limits that count per person or device, not per address (a hall's kiosks share one address)."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
STORAGE_RETRY_S = 5.0  # after the shared storage failed, count in memory this long before trying it again


def per_principal() -> str:
    principal = g.get("principal")
    return f"{principal.kind}:{principal.id}" if principal is not None else get_remote_address()


def _login_limits() -> list[RateLimitItem]:
    from .runtime import runtime

    return parse_many(runtime().settings.login_rate_limit)


def _counted(count: Callable[[RateLimiter], T]) -> T:
    """`count` on the limiter's storage; on this process's memory while that storage (Redis) is down."""
    extensions = current_app.extensions
    failed_at = extensions.get("govhall.limits_storage_failed")
    if failed_at is None or time.monotonic() >= failed_at + STORAGE_RETRY_S:
        try:
            return count(limiter.limiter)
        except limiter.storage.base_exceptions as e:
            log.warning("rate-limit storage unreachable, counting in memory: %s", e)
            extensions["govhall.limits_storage_failed"] = time.monotonic()
    fallback: RateLimiter = extensions.setdefault(
        "govhall.limits_fallback", FixedWindowRateLimiter(MemoryStorage()))
    return count(fallback)


class SharedCounts:
    """Fixed-window counts of the per-caller limits, kept in this process and added to the shared
    storage (Redis) in one round trip every SYNC_S, not one round trip per request (a tenth of the CPU
    of taking a number went to it).

    A caller is refused once the shared total as last read plus its hits here since reach the limit.
    The total is read back when this process adds hits of its own. With one process that is exact;
    with several, a device can pass its limit by what other processes let through before this one
    next added and read (at most one interval of its own hits after theirs); nginx sends a hall's
    kiosks to one process anyway (`ip_hash`, docs/deploy/nginx-govhall.conf). While Redis is
    unreachable the hits wait here, still counted, and are added once it answers again.
    """

    SYNC_S = 0.2

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self.lock = threading.Lock()
        self.pending: dict[str, int] = {}  # key -> hits here not yet added to the shared count
        self.shared: dict[str, int] = {}  # key -> the shared count when last added to
        self.ends: dict[str, float] = {}  # key -> when its window ends (time.time())
        self.syncing: threading.Thread | None = None

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit of `item` for the identifiers unless it would pass the limit (then False)."""
        expiry = item.get_expiry()
        window = int(time.time() // expiry)
        key = f"{self.prefix}/{item.key_for(*identifiers)}/{window}"
        with self.lock:
            if self.shared.get(key, 0) + self.pending.get(key, 0) >= item.amount:
                return False
            self.pending[key] = self.pending.get(key, 0) + 1
            self.ends[key] = (window + 1) * expiry
            if self.syncing is None:
                self.syncing = threading.Thread(target=self._sync_forever, name="limits-sync", daemon=True)
                self.syncing.start()
        return True

    def sync(self) -> None:
        """Add the hits counted here to the shared counts and read their totals (raises RedisError)."""
        with self.lock:
            pending, self.pending = self.pending, {}
            now = time.time()
            for key in [key for key, end in self.ends.items() if end <= now]:
                self.ends.pop(key)
                self.shared.pop(key, None)
                pending.pop(key, None)
            ends = {key: self.ends[key] for key in pending}
        if not pending:
            return
        pipe = self.client.pipeline(transaction=False)
        for key, hits in pending.items():
            pipe.incrby(key, hits)
            pipe.expireat(key, math.ceil(ends[key]) + 1)
        try:
            totals = pipe.execute()[::2]
        except Exception:
            with self.lock:  # still counted here; added on the next try
                for key, hits in pending.items():
                    if key in self.ends:
                        self.pending[key] = self.pending.get(key, 0) + hits
            raise
        with self.lock:
            for key, total in zip(pending, totals, strict=True):
                if key in self.ends:
                    self.shared[key] = int(total)

    def _sync_forever(self) -> None:
        import redis

        failing = False
        while True:
            time.sleep(self.SYNC_S)
            try:
                self.sync()
                failing = False
            except redis.RedisError as e:
                if not failing:
                    log.warning("rate-limit storage unreachable, counting in this process: %s", e)
                failing = True


def _shared_counts() -> SharedCounts | None:
    """The app's SharedCounts when its limits are kept in Redis; None for memory (one process)."""
    extensions = current_app.extensions
    if "govhall.shared_counts" not in extensions:
        uri = current_app.config["RATELIMIT_STORAGE_URI"]
        counts = None
        if uri.startswith(("redis://", "rediss://")):
            import redis  # installed with the `redis` extra, which a Redis URL needs

            from .runtime import runtime

            counts = SharedCounts(redis.Redis.from_url(uri, socket_timeout=2, socket_connect_timeout=2),
                                  f"{runtime().settings.redis_channel}:limit")  # one installation's own
        extensions["govhall.shared_counts"] = counts
    shared: SharedCounts | None = extensions["govhall.shared_counts"]
    return shared


class Limited(TooManyRequests):
    """A caller past its limit: errors.py answers 429 with Retry-After (the limit's window)."""

    def __init__(self, item: RateLimitItem) -> None:
        super().__init__()
        self.retry_after = item.get_expiry()


@functools.lru_cache(maxsize=64)
def _parsed(limit: str) -> list[RateLimitItem]:
    return parse_many(limit)


def per_caller(limit: Callable[[], str]) -> Callable[[F], F]:
    """The view's own `limit`, counted per kiosk, staff member or address (`per_principal`), after
    authentication. With `limits` directly: Flask-Limiter's per-request machinery (two evaluations
    of every limit a request could have) cost a tenth of taking a number; with Redis, counted by
    `SharedCounts` (no round trip per request)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            scope, key = request.endpoint or view.__name__, per_principal()
            items = _parsed(limit())
            shared = _shared_counts()
            refused = ([i for i in items if not shared.hit(i, scope, key)] if shared is not None else
                       _counted(lambda counter: [i for i in items if not counter.hit(i, scope, key)]))
            if refused:
                raise Limited(max(refused, key=lambda item: item.get_expiry()))
            return view(*args, **kwargs)

        limited.own_rate_limit = True  # type: ignore[attr-defined]  # kept by the decorators above it
        return limited  # type: ignore[return-value]

    return decorate


def login_allowed(username: str) -> bool:
    """False once a username has failed too often (counted per username, not per address)."""
    key = username.lower()[:60]
    return _counted(lambda counter: all(counter.test(item, "login-failed", key) for item in _login_limits()))


def login_failed(username: str) -> None:
    key = username.lower()[:60]
    _counted(lambda counter: [counter.hit(item, "login-failed", key) for item in _login_limits()])


def per_track_token() -> str:
    return f"track:{(request.view_args or {}).get('track_token', '')}"


# headers: RATELIMIT_HEADERS_ENABLED (off; a value given here would override the app's config)
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def _limited_by_its_view() -> bool:
    """Flask-Limiter passes over the requests whose view counts its own limit (`per_caller`)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "own_rate_limit", False))
