"""Rate limits that count per person or device, not per address (a hall's kiosks share one address)."""

from __future__ import annotations

from flask import g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many


def per_principal() -> str:
    principal = g.get("principal")
    return f"{principal.kind}:{principal.id}" if principal is not None else get_remote_address()


def _login_limits() -> list[RateLimitItem]:
    from .runtime import runtime

    return parse_many(runtime().settings.login_rate_limit)


def login_allowed(username: str) -> bool:
    """False once a username has failed too often (counted per username, not per address)."""
    key = username.lower()[:60]
    return all(limiter.limiter.test(item, "login-failed", key) for item in _login_limits())


def login_failed(username: str) -> None:
    key = username.lower()[:60]
    for item in _login_limits():
        limiter.limiter.hit(item, "login-failed", key)


def per_track_token() -> str:
    return f"track:{(request.view_args or {}).get('track_token', '')}"


limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
