"""Rate limits that count per person or device, not per address (a hall's kiosks share one address)."""

from __future__ import annotations

import functools
import logging
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
    of every limit a request could have) cost a tenth of taking a number."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            scope, key = request.endpoint or view.__name__, per_principal()
            items = _parsed(limit())
            refused = _counted(lambda counter: [i for i in items if not counter.hit(i, scope, key)])
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
