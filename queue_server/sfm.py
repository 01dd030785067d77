"""苏服码-style codes: govhall's own signed, short-lived identity QR (hardware.md §4.2, adapted).

Text: ``"GH1:" + base45(bytes)`` (RFC 9285; the whole text is in the QR alphanumeric set).
Bytes, big-endian, 96..108 of them:

====== ==== ===========================================================================
offset size field
====== ==== ===========================================================================
0      1    version 0x01
1      4    issuer key id, ASCII: first 4 base32 characters of SHA-256(raw public key)
5      4    issued-at, u32 Unix seconds
9      2    lifetime, u16 seconds (1..300; 60 by default)
11     8    random nonce
19     4    birth date, u32 YYYYMMDD                                        } subject
23     8    sealed ID number: its first 17 digits as a u64, AES-256-CTR      } subject
            (seal key, counter block = issued-at‖nonce‖0)                    } subject
31     1    n = length of the masked name in UTF-8 (≤ 12)                    } subject
32     n    masked name (张*三), UTF-8                                        } subject
32+n   64   Ed25519 signature over b"govhall-code-v1" + bytes 0..31+n
====== ==== ===========================================================================

Size: 96 + n bytes → 148 + 1.5 n base45 characters, 154..166 with the prefix: QR version 6-M for
a two-character name (张*, 154 characters), 7-M (45×45 modules) up to the 12-byte maximum
(measured in tests/unit/test_sfm.py).

Privacy. Anyone near the citizen, and the kiosk's camera and decoder, can read the QR. In clear it
carries only the masked name (what the kiosk shows anyway) and the birth date (what the 绿色通道
rule needs; the identity token carries the same two). The ID number is sealed with a key that only
the issuer and the halls that accept its codes hold, so a photo of the screen or a kiosk log never
yields it. The hall server opens the seal, re-checks the number (GB 11643, and that it agrees with
the clear birth date) and derives ``tokens.identity_hash(secret_key, number)`` — the same keyed hash
as the ID card path, so one person has one id_hash however they identify, across issuer key
rotations; the number itself is dropped after hashing and masking. §4.2's 16-byte subject hash was
not kept: keyed by the issuer, it would be a second, unrelated identifier of the same person.
The seal is symmetric because a phone shows its code before knowing which hall will scan it: every
accepting hall must be able to open it anyway, and sealing to a public key would add a 32-byte
ephemeral key (about one QR version). It is a plain stream cipher, without a 16-byte AEAD tag
(another QR version): the signature, checked first, already covers the sealed bytes; a wrong seal
key yields digits that fail GB 11643 or disagree with the clear birth date (under 1 in 10^10 pass).
The counter block issued-at‖random 64 bits never repeats under one key.

Keys. ``keygen(FILE)`` writes FILE (the Ed25519 private key, PKCS#8 PEM, mode 0600), FILE.pub (its
public key, SubjectPublicKeyInfo PEM) and FILE.seal (the seal key, hex, mode 0600; HKDF-SHA256 of
the private key, so the issuer needs FILE alone, while a holder of the seal key cannot sign). A
server trusts an issuer through its folder of trusted keys (``instance/sfm/`` for now):
``<key id>.pub`` (PEM or the raw 32 bytes) to verify, ``<key id>.seal`` (secret) to open the ID
number. Without the .seal file a code still verifies — a kiosk verifying offline shows the masked
name and birth-date priority — but the server cannot identify the person (``sfm_unreadable``).

Verification, in this order (each refusal its own code): parse → ``sfm_malformed``; key id →
``sfm_foreign_key``; signature → ``sfm_tampered``; lifetime > 300 s → ``sfm_bad_lifetime``; time
with 30 s skew → ``sfm_not_yet_valid`` / ``sfm_expired``; seal → ``sfm_unreadable`` when this
server's seal key does not open it to a valid number of the clear birth date; replay →
``sfm_replayed`` (409); the replay store (Redis) unreachable → ``sfm_unavailable`` (503: the
kiosk offers the ID card or an anonymous ticket instead). The others are 400, never 401: a kiosk
takes 401 to mean its own device token was revoked.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import struct
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import base45
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .queue import identity
from .queue.errors import BadRequest, Conflict, QueueError, Unavailable

log = logging.getLogger(__name__)

PREFIX = "GH1:"
VERSION = 1
CONTEXT = b"govhall-code-v1"
DEFAULT_TTL = 60
MAX_LIFETIME = 300
SKEW = timedelta(seconds=30)
NAME_MAX = 12
_HEADER = struct.Struct(">B4sIH8sI")  # version, key id, issued-at, lifetime, nonce, birth date
_SEALED = 8
_SIG = 64
_MIN = _HEADER.size + _SEALED + 1 + _SIG  # 96
_MAX_TEXT = len(PREFIX) + (_MIN + NAME_MAX) * 3 // 2 + 2


class SfmError(QueueError):
    """A scanned code was refused; `code` says why, the message tells the citizen what to do."""

    code = "sfm_error"


class SfmMalformed(SfmError, BadRequest):
    code = "sfm_malformed"


class SfmForeignKey(SfmError, BadRequest):
    code = "sfm_foreign_key"


class SfmTampered(SfmError, BadRequest):
    code = "sfm_tampered"


class SfmBadLifetime(SfmError, BadRequest):
    code = "sfm_bad_lifetime"


class SfmExpired(SfmError, BadRequest):
    code = "sfm_expired"


class SfmNotYetValid(SfmError, BadRequest):
    code = "sfm_not_yet_valid"


class SfmUnreadable(SfmError, BadRequest):
    code = "sfm_unreadable"


class SfmReplayed(SfmError, Conflict):
    code = "sfm_replayed"


class SfmUnavailable(SfmError, Unavailable):
    """The memory of used codes cannot be reached: no code is accepted until it is back."""

    code = "sfm_unavailable"


UNREADABLE = "无法识别该二维码，请出示苏服码或使用身份证"
UNAVAILABLE = "扫码核验暂时无法使用，请刷身份证或选择不核验身份取号"


# --- keys --------------------------------------------------------------------------------------

def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """Four base32 characters of SHA-256(raw public key): short, stable, selects the key."""
    return base64.b32encode(hashlib.sha256(_raw_public(public)).digest()).decode()[:4]


def seal_key_of(private: Ed25519PrivateKey) -> bytes:
    """The AES-256 key that seals ID numbers, derived one-way from the signing key."""
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"govhall-sfm-seal-v1").derive(raw)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(mode)  # an existing file keeps its old mode through os.open


@dataclass(frozen=True)
class KeyFiles:
    key_id: str
    private: Path
    public: Path
    seal: Path


def keygen(out: Path) -> KeyFiles:
    """A new issuer key: `out` (private, 0600), `out`.pub and `out`.seal (secret, 0600)."""
    private = Ed25519PrivateKey.generate()
    files = KeyFiles(key_id(private.public_key()), out, Path(f"{out}.pub"), Path(f"{out}.seal"))
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(out, private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()), 0o600)
    _write(files.public, private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    _write(files.seal, seal_key_of(private).hex().encode() + b"\n", 0o600)
    return files


def load_private(path: Path) -> Ed25519PrivateKey:
    """The issuer key in a PEM file; ValueError when it is not an unencrypted Ed25519 key."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return key


def trust(key_file: Path, folder: Path) -> str:
    """Make a server trust the issuer of `key_file`: write <key id>.pub and .seal into `folder`."""
    private = load_private(key_file)
    kid = key_id(private.public_key())
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"{kid}.pub", private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    _write(folder / f"{kid}.seal", seal_key_of(private).hex().encode() + b"\n", 0o600)
    return kid


@dataclass(frozen=True)
class TrustedKey:
    public: Ed25519PublicKey
    seal: bytes | None = field(default=None, repr=False)


def _load_public(data: bytes) -> Ed25519PublicKey:
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return key


def _load_seal(path: Path) -> bytes | None:
    if not path.exists():
        return None
    data = path.read_bytes()
    seal = data if len(data) == 32 else bytes.fromhex(data.decode().strip())
    if len(seal) != 32:
        raise ValueError("a seal key has 32 bytes")
    return seal


def load_trusted(folder: Path) -> dict[str, TrustedKey]:
    """The trusted issuer keys in `folder`, by key id; unreadable files are logged and skipped."""
    trusted: dict[str, TrustedKey] = {}
    for path in sorted(folder.glob("*.pub")) if folder.is_dir() else ():
        try:
            public = _load_public(path.read_bytes())
            seal = _load_seal(path.with_suffix(".seal"))
        except (OSError, ValueError, UnicodeDecodeError) as e:
            log.warning("skipping trusted 苏服码 key %s: %s", path.name, e)
            continue
        kid = key_id(public)
        if path.stem != kid:
            log.warning("trusted 苏服码 key %s has key id %s", path.name, kid)
        trusted[kid] = TrustedKey(public, seal)
    return trusted


# --- the code ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Payload:
    """The signed fields of a code."""

    key_id: str
    issued_at: int
    lifetime: int
    nonce: bytes
    birth: int  # YYYYMMDD
    sealed_id: bytes = field(repr=False)
    masked_name: str

    def header(self) -> bytes:
        return _HEADER.pack(VERSION, self.key_id.encode("ascii"), self.issued_at, self.lifetime,
                            self.nonce, self.birth)

    def signed_bytes(self) -> bytes:
        name = self.masked_name.encode()
        return self.header() + self.sealed_id + bytes([len(name)]) + name


def _seal(key: bytes, issued_at: int, nonce: bytes, data: bytes) -> bytes:
    """AES-256-CTR both ways; the counter block starts at issued-at‖nonce‖0, unique per code."""
    crypt = Cipher(algorithms.AES(key), modes.CTR(issued_at.to_bytes(4, "big") + nonce + bytes(4)))
    return crypt.encryptor().update(data)


def fit_name(masked: str) -> str:
    """The masked name cut to NAME_MAX bytes of UTF-8 at a character boundary."""
    while len(masked.encode()) > NAME_MAX:
        masked = masked[:-1]
    return masked


@dataclass(frozen=True)
class Issuer:
    """Signs codes with one key; its seal key is derived from it."""

    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def load(cls, path: Path) -> Issuer:
        return cls(load_private(path))

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def payload(self, id_number: str, name: str, now: datetime, ttl: int = DEFAULT_TTL) -> Payload:
        """The fields of a code for this person; InvalidIdNumber or BadRequest on bad input."""
        number = identity.validate(id_number, now.date())
        masked = fit_name(identity.mask_name(name))
        if not masked:
            raise BadRequest("姓名不能为空")
        if not 1 <= ttl <= MAX_LIFETIME:
            raise BadRequest(f"有效期应为1至{MAX_LIFETIME}秒")
        issued_at, nonce = int(now.timestamp()), secrets.token_bytes(8)
        born = identity.birth_date(number)
        birth = born.year * 10000 + born.month * 100 + born.day
        sealed = _seal(seal_key_of(self.private), issued_at, nonce, int(number[:17]).to_bytes(8, "big"))
        return Payload(self.key_id, issued_at, ttl, nonce, birth, sealed, masked)

    def sign(self, payload: Payload) -> str:
        """The code text of `payload`, as is (tests use it to make codes the rules refuse)."""
        signed = payload.signed_bytes()
        raw = signed + self.private.sign(CONTEXT + signed)
        return PREFIX + str(base45.b45encode(raw).decode("ascii"))

    def issue(self, id_number: str, name: str, now: datetime, ttl: int = DEFAULT_TTL) -> str:
        return self.sign(self.payload(id_number, name, now, ttl))


def parse(code: str) -> tuple[Payload, bytes, bytes]:
    """(payload, signed bytes, signature) of a code's text; SfmMalformed for anything else."""
    text = code.strip("\r\n")  # a keyboard-wedge scanner ends with Enter; a space is base45
    if not text.startswith(PREFIX) or len(text) > _MAX_TEXT:
        raise SfmMalformed(UNREADABLE)
    try:
        raw = base45.b45decode(text[len(PREFIX):])
    except ValueError:
        raise SfmMalformed(UNREADABLE) from None
    if len(raw) < _MIN or raw[0] != VERSION:
        raise SfmMalformed(UNREADABLE)
    at = _HEADER.size + _SEALED
    n = raw[at]
    if n > NAME_MAX or len(raw) != _MIN + n:
        raise SfmMalformed(UNREADABLE)
    _, kid, issued_at, lifetime, nonce, birth = _HEADER.unpack_from(raw)
    try:
        masked = raw[at + 1:at + 1 + n].decode()
        kid_text = kid.decode("ascii")
    except UnicodeDecodeError:
        raise SfmMalformed(UNREADABLE) from None
    payload = Payload(kid_text, issued_at, lifetime, nonce, birth, raw[_HEADER.size:at], masked)
    return payload, raw[:-_SIG], raw[-_SIG:]


# --- verification ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VerifiedCode:
    """What a verified code vouches for; `id_number` is None when the verifier cannot open it."""

    issuer: str
    issued_at: datetime
    expires_at: datetime
    birth_date: date
    masked_name: str
    id_number: str | None = field(default=None, repr=False)


class CodeVerifier(Protocol):
    """Offline here; a provincial online check is another implementation of the same call."""

    def verify(self, code: str, now: datetime) -> VerifiedCode: ...


class ReplayCache(Protocol):
    def first_use(self, key: str, now: datetime, until: datetime) -> bool:
        """True the first time `key` is seen (then remembered until `until`), False after."""
        ...


class MemoryReplayCache:
    """One process's memory of used codes: a dict swept of expired entries, behind a lock."""

    SWEEP_EVERY = timedelta(seconds=10)

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._next_sweep: datetime | None = None

    def first_use(self, key: str, now: datetime, until: datetime) -> bool:
        with self._lock:
            if self._next_sweep is None or now >= self._next_sweep:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
                self._next_sweep = now + self.SWEEP_EVERY
            seen = self._seen.get(key)
            if seen is not None and seen > now:
                return False
            self._seen[key] = until
            return True

    def __len__(self) -> int:
        return len(self._seen)


class RedisReplayCache:
    """Shared by every server process: `SET key 1 NX EX ttl` succeeds once per code."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisReplayCache:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix)

    def first_use(self, key: str, now: datetime, until: datetime) -> bool:
        import redis

        ttl = max(1, int((until - now).total_seconds()) + 1)
        try:
            return bool(self.client.set(self.prefix + key, b"1", nx=True, ex=ttl))
        except redis.RedisError as e:
            # Without the shared memory a replayed code would pass: refuse every code, say why
            log.warning("苏服码 replay store unreachable: %s", e)
            raise SfmUnavailable(UNAVAILABLE) from None


def _when(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class OfflineVerifier:
    """Checks codes against trusted public keys; `scope` (a hall) names whose replay cache it is."""

    def __init__(self, trusted: dict[str, TrustedKey], replay: ReplayCache, scope: str = "") -> None:
        self.trusted, self.replay, self.scope = trusted, replay, scope

    def verify(self, code: str, now: datetime) -> VerifiedCode:
        payload, signed, signature = parse(code)
        key = self.trusted.get(payload.key_id)
        if key is None:
            raise SfmForeignKey("该二维码不是本大厅认可的苏服码，请使用身份证办理")
        try:
            key.public.verify(signature, CONTEXT + signed)
        except InvalidSignature:
            raise SfmTampered("二维码校验未通过，请在手机上刷新后重新扫码") from None
        # Only now are the fields the issuer's word (hardware.md §4.2 rule 3).
        if not 1 <= payload.lifetime <= MAX_LIFETIME:
            raise SfmBadLifetime("二维码有效期不符合要求，请在手机上刷新后重新扫码")
        issued, expires = _when(payload.issued_at), _when(payload.issued_at + payload.lifetime)
        if now < issued - SKEW:
            raise SfmNotYetValid("二维码尚未生效，请核对手机时间后刷新重试")
        if now > expires + SKEW:
            raise SfmExpired("二维码已过期，请在手机上刷新后重新扫码")
        born, number = self._subject(payload, key, now)
        replay_key = f"{self.scope}:{payload.key_id}:{payload.nonce.hex()}"
        if not self.replay.first_use(replay_key, now, expires + SKEW):
            raise SfmReplayed("该二维码已使用过，请在手机上刷新后再扫")
        return VerifiedCode(payload.key_id, issued, expires, born, payload.masked_name, number)

    @staticmethod
    def _subject(payload: Payload, key: TrustedKey, now: datetime) -> tuple[date, str | None]:
        """The birth date, and the ID number when this verifier holds the seal key."""
        try:
            b = payload.birth
            born = date(b // 10000, b // 100 % 100, b % 100)
        except ValueError:
            raise SfmMalformed(UNREADABLE) from None
        if key.seal is None:
            return born, None
        # Signed by a trusted issuer, so a number that does not open is a seal key this server lacks.
        unreadable = SfmUnreadable("本大厅暂时无法读取该二维码，请使用身份证办理")
        digits = _seal(key.seal, payload.issued_at, payload.nonce, payload.sealed_id)
        first17 = f"{int.from_bytes(digits, 'big'):017d}"
        try:
            number = identity.validate(first17 + identity.check_char(first17), now.date())
        except (ValueError, QueueError):
            raise unreadable from None
        if identity.birth_date(number) != born:
            raise unreadable
        return born, number
