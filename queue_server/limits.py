"""Rate limits that count per person or device, not per address (a hall's kiosks share one address)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")


def per_principal() -> str:
    principal = g.get("principal")
    return f"{principal.kind}:{principal.id}" if principal is not None else get_remote_address()


def _login_limits() -> list[RateLimitItem]:
    from .runtime import runtime

    return parse_many(runtime().settings.login_rate_limit)


def _counted(count: Callable[[RateLimiter], T]) -> T:
    """`count` on the limiter's storage; on this process's memory while that storage (Redis) is down."""
    try:
        return count(limiter.limiter)
    except limiter.storage.base_exceptions as e:
        log.warning("rate-limit storage unreachable, counting in memory: %s", e)
        fallback: RateLimiter = current_app.extensions.setdefault(
            "govhall.limits_fallback", FixedWindowRateLimiter(MemoryStorage()))
        return count(fallback)


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
