"""Device tokens are stored as SHA-256 hashes: a leaked database does not leak working tokens."""

from __future__ import annotations

import hashlib
import hmac


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def identity_hash(secret: str, id_number: str) -> str:
    """Keyed hash of an ID number (HMAC-SHA256): comparable within the platform, not reversible."""
    return hmac.new(secret.encode(), id_number.encode(), hashlib.sha256).hexdigest()
