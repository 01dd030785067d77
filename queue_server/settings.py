"""Configuration: one frozen Settings read from GOVHALL_* variables; nothing else reads os.environ."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE = Path("instance")
PATHS = ("instance_path", "sfm_trust_path", "demo_sfm_key")


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{DEFAULT_INSTANCE / 'govhall.db'}"
    redis_url: str | None = None
    redis_channel: str = "govhall"  # Socket.IO message-queue channel (one per installation)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    instance_path: Path = DEFAULT_INSTANCE
    async_mode: str = "threading"
    demo_password: str | None = None
    public_url: str | None = None  # base of tracking links printed on tickets
    ticket_rate_limit: str = "60/minute"  # per kiosk device or staff member
    login_rate_limit: str = "5/minute;30/hour"  # failed logins per username
    public_rate_limit: str = "600/minute"  # public reads per address (phones, screens)
    rate_limit_storage: str | None = None  # default: redis_url when set, else memory
    # Screens get the refreshed queue at most this often per hall (0: at once, in the request)
    publish_coalesce_ms: int = 1000
    # Windows, allocations and service times read at most this often per hall for wait estimates.
    # A call or window change drops them at once on its own process and, through Redis, within a
    # second on the others; this bounds how long a change is missed if Redis loses that message.
    load_cache_s: float = 60.0
    # Who a bearer token names is re-read at most this often. A revocation takes effect at once on
    # its own process and, through Redis, on the others; this bounds it if Redis loses the message.
    # (A kiosk takes a number every minute or so: at 15 s nearly every number re-read its device.)
    auth_cache_s: float = 120.0
    # Proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are trusted, so per-address limits
    # count the phone, not nginx
    trusted_proxies: int = 0
    secret_key_from_env: bool = False
    demo_sfm_key: Path | None = None  # the demo's issuer key: enables the phone page /demo/sfm
    sfm_trust_path: Path | None = None  # trusted 苏服码 issuers (<kid>.pub, <kid>.seal); default instance/sfm

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from GOVHALL_DATABASE_URL, GOVHALL_REDIS_URL, GOVHALL_SECRET_KEY, …; overrides win."""
        values: dict[str, Any] = {}
        for name, spec in cls.__dataclass_fields__.items():
            raw = env.get(f"GOVHALL_{name.upper()}")
            if raw:
                kind = type(spec.default)
                values[name] = (Path(raw) if name in PATHS
                                else kind(raw) if kind in (int, float) else raw)
        values["secret_key_from_env"] = "secret_key" in values
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
