"""Identity tokens: what `POST /api/v1/identify` answers after verifying a code or an ID card.

A kiosk passes the token with take-a-number (and later with applications) so the server, not the
kiosk, vouches for who the citizen is. It carries the keyed hash of the ID number, the birth date
and the masked name — never the ID number — is signed with the server's key and lives 10 minutes.
"""

from __future__ import annotations

from datetime import date

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .queue.errors import BadRequest
from .queue.priority import Identity

TTL_SECONDS = 600
_SALT = "govhall-identity"


def issue(secret: str, identity: Identity) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(
        {"h": identity.id_hash, "b": identity.birth_date.isoformat(), "n": identity.masked_name})


def verify(secret: str, token: str) -> Identity:
    """The identity a token vouches for; BadRequest (a citizen-readable reason) otherwise."""
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=TTL_SECONDS)
    except SignatureExpired:
        raise BadRequest("身份核验已过期，请重新扫码或刷身份证") from None
    except BadSignature:
        raise BadRequest("身份核验信息无效，请重新扫码或刷身份证") from None
    try:
        return Identity(id_hash=str(data["h"]), birth_date=date.fromisoformat(data["b"]),
                        masked_name=str(data["n"]))
    except (KeyError, TypeError, ValueError):
        raise BadRequest("身份核验信息无效，请重新扫码或刷身份证") from None
