"""苏服码-style codes: keys, the format, each refusal with its own code, the replay caches, QR size."""

from __future__ import annotations

import dataclasses
import stat
import threading
from datetime import date, timedelta

import base45
import pytest

from queue_server import sfm
from queue_server.queue import identity
from queue_server.queue.errors import BadRequest, InvalidIdNumber

from ..conftest import NOW, REDIS_URL, service_missing

ELDER = "11010519491231002X"  # GB 11643's own example, born 1949-12-31


@pytest.fixture
def key_file(tmp_path):
    return sfm.keygen(tmp_path / "issuer.pem").private


@pytest.fixture
def issuer(key_file):
    return sfm.Issuer.load(key_file)


@pytest.fixture
def trusted(key_file, tmp_path):
    sfm.trust(key_file, tmp_path / "trust")
    return sfm.load_trusted(tmp_path / "trust")


@pytest.fixture
def verifier(trusted):
    return sfm.OfflineVerifier(trusted, sfm.MemoryReplayCache(), scope="demo")


def raw_of(code: str) -> bytearray:
    return bytearray(base45.b45decode(code.removeprefix(sfm.PREFIX)))


def text_of(raw: bytes) -> str:
    return sfm.PREFIX + base45.b45encode(bytes(raw)).decode()


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path):
    files = sfm.keygen(tmp_path / "k.pem")
    assert stat.S_IMODE(files.private.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.seal.stat().st_mode) == 0o600
    assert files.public == tmp_path / "k.pem.pub" and b"BEGIN PUBLIC KEY" in files.public.read_bytes()
    assert len(files.key_id) == 4 and set(files.key_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert sfm.Issuer.load(files.private).key_id == files.key_id
    assert sfm.trust(files.private, tmp_path / "trust") == files.key_id
    assert (tmp_path / "trust" / f"{files.key_id}.pub").read_bytes() == files.public.read_bytes()


def test_round_trip(issuer, verifier):
    code = issuer.issue(ELDER, "王大明", NOW)
    assert code.startswith("GH1:") and ELDER not in code and "王" not in code
    got = verifier.verify(code, NOW + timedelta(seconds=5))
    assert got.masked_name == "王*明" and got.birth_date == date(1949, 12, 31)
    assert got.id_number == ELDER and got.issuer == issuer.key_id
    assert got.expires_at - got.issued_at == timedelta(seconds=sfm.DEFAULT_TTL)
    assert ELDER not in repr(got)


def test_the_id_number_is_not_in_the_code_in_clear(issuer):
    raw = raw_of(issuer.issue(ELDER, "王大明", NOW))
    assert int(ELDER[:17]).to_bytes(8, "big") not in raw and ELDER.encode() not in raw
    assert (19491231).to_bytes(4, "big") in raw  # the birth date is in clear, by design


def test_without_the_seal_key_a_code_verifies_but_names_no_number(issuer, trusted):
    public_only = {k: sfm.TrustedKey(v.public) for k, v in trusted.items()}
    got = sfm.OfflineVerifier(public_only, sfm.MemoryReplayCache()).verify(issuer.issue(ELDER, "王大明", NOW), NOW)
    assert got.id_number is None and got.birth_date == date(1949, 12, 31) and got.masked_name == "王*明"


def test_a_wrong_seal_key_is_unreadable(issuer, trusted):
    wrong = {k: sfm.TrustedKey(v.public, bytes(32)) for k, v in trusted.items()}
    with pytest.raises(sfm.SfmUnreadable) as e:
        sfm.OfflineVerifier(wrong, sfm.MemoryReplayCache()).verify(issuer.issue(ELDER, "王大明", NOW), NOW)
    assert e.value.code == "sfm_unreadable"


@pytest.mark.parametrize(("offset", "error", "code"), [
    (sfm.DEFAULT_TTL + 30, None, None),
    (sfm.DEFAULT_TTL + 31, sfm.SfmExpired, "sfm_expired"),
    (-30, None, None),
    (-31, sfm.SfmNotYetValid, "sfm_not_yet_valid"),
])
def test_time_window_allows_30_seconds_of_skew(issuer, verifier, offset, error, code):
    text = issuer.issue(ELDER, "王大明", NOW)
    at = NOW + timedelta(seconds=offset)
    if error is None:
        assert verifier.verify(text, at).id_number == ELDER
        return
    with pytest.raises(error) as e:
        verifier.verify(text, at)
    assert e.value.code == code and "二维码" in str(e.value)


def test_a_code_works_once_per_hall(issuer, trusted):
    cache = sfm.MemoryReplayCache()
    code = issuer.issue(ELDER, "王大明", NOW)
    sfm.OfflineVerifier(trusted, cache, scope="demo").verify(code, NOW)
    with pytest.raises(sfm.SfmReplayed, match="已使用过") as e:
        sfm.OfflineVerifier(trusted, cache, scope="demo").verify(code, NOW + timedelta(seconds=1))
    assert e.value.code == "sfm_replayed"
    sfm.OfflineVerifier(trusted, cache, scope="other-hall").verify(code, NOW)


def test_a_refused_code_does_not_use_up_its_nonce(issuer, verifier):
    code = issuer.issue(ELDER, "王大明", NOW)
    with pytest.raises(sfm.SfmNotYetValid):
        verifier.verify(code, NOW - timedelta(minutes=5))
    assert verifier.verify(code, NOW).masked_name == "王*明"


@pytest.mark.parametrize("where", ["signature", "nonce", "issued_at", "birth", "sealed", "name"])
def test_one_flipped_byte_is_tampering(issuer, verifier, where):
    raw = raw_of(issuer.issue(ELDER, "王大明", NOW))
    at = {"signature": len(raw) - 10, "nonce": 12, "issued_at": 8, "birth": 21, "sealed": 30,
          "name": 35}[where]  # 35: the * of 王*明
    raw[at] ^= 0x01
    with pytest.raises(sfm.SfmTampered) as e:
        verifier.verify(text_of(raw), NOW)
    assert e.value.code == "sfm_tampered"


def test_an_unknown_key_id_is_a_foreign_key(verifier, tmp_path):
    stranger = sfm.Issuer.load(sfm.keygen(tmp_path / "stranger.pem").private)
    with pytest.raises(sfm.SfmForeignKey) as e:
        verifier.verify(stranger.issue(ELDER, "王大明", NOW), NOW)
    assert e.value.code == "sfm_foreign_key"


def _malformed(issuer: sfm.Issuer, how: str) -> str:
    code = issuer.issue(ELDER, "王大明", NOW)
    raw = raw_of(code)
    if how == "version":
        raw[0] = 2
    return {
        "prefix": "GH2:" + code[4:],
        "no prefix": code[4:],
        "bad base45 character": code[:20] + "!" + code[21:],
        "bad base45 length": code + "A",
        "truncated": text_of(raw[:-1]),
        "one byte more": text_of(raw + b"\x00"),
        "short": text_of(raw[:40]),
        "version": text_of(raw),
        "empty": "",
        "long": code + "A" * 300,
    }[how]


@pytest.mark.parametrize("how", ["prefix", "no prefix", "bad base45 character", "bad base45 length",
                                 "truncated", "one byte more", "short", "version", "empty", "long"])
def test_malformed_codes(issuer, verifier, how):
    with pytest.raises(sfm.SfmMalformed) as e:
        verifier.verify(_malformed(issuer, how), NOW)
    assert e.value.code == "sfm_malformed" and isinstance(e.value, BadRequest)


def test_a_scanner_enter_key_is_ignored(issuer, verifier):
    assert verifier.verify(issuer.issue(ELDER, "王大明", NOW) + "\r\n", NOW).masked_name == "王*明"


def test_a_lifetime_over_300_seconds_is_refused_even_when_signed(issuer, verifier):
    payload = dataclasses.replace(issuer.payload(ELDER, "王大明", NOW), lifetime=301)
    with pytest.raises(sfm.SfmBadLifetime) as e:
        verifier.verify(issuer.sign(payload), NOW)
    assert e.value.code == "sfm_bad_lifetime"
    with pytest.raises(BadRequest):
        issuer.issue(ELDER, "王大明", NOW, ttl=301)
    assert verifier.verify(issuer.issue(ELDER, "王大明", NOW, ttl=300), NOW + timedelta(seconds=320))


def test_issue_refuses_a_bad_id_number_and_an_empty_name(issuer):
    with pytest.raises(InvalidIdNumber):
        issuer.issue("110105194912310021", "王大明", NOW)
    with pytest.raises(BadRequest):
        issuer.issue(ELDER, "  ", NOW)


def test_long_names_are_masked_and_cut_to_12_bytes(issuer, verifier):
    got = verifier.verify(issuer.issue(ELDER, "阿依古丽·买买提江", NOW), NOW)
    assert got.masked_name.startswith("阿依*") and len(got.masked_name.encode()) <= sfm.NAME_MAX


def test_replay_statuses():
    assert issubclass(sfm.SfmReplayed, sfm.SfmError) and not issubclass(sfm.SfmReplayed, BadRequest)
    codes = {c.code for c in (sfm.SfmMalformed, sfm.SfmForeignKey, sfm.SfmTampered, sfm.SfmBadLifetime,
                              sfm.SfmExpired, sfm.SfmNotYetValid, sfm.SfmUnreadable, sfm.SfmReplayed)}
    assert len(codes) == 8


def test_memory_replay_cache_forgets_after_expiry():
    cache = sfm.MemoryReplayCache()
    until = NOW + timedelta(seconds=90)
    assert cache.first_use("a", NOW, until)
    assert not cache.first_use("a", NOW + timedelta(seconds=89), until)
    assert cache.first_use("a", until + timedelta(seconds=1), until + timedelta(seconds=91))
    cache.first_use("b", NOW, until)
    cache.first_use("c", until + timedelta(minutes=5), until + timedelta(minutes=6))  # sweeps a and b
    assert len(cache) == 1


def test_memory_replay_cache_lets_one_thread_of_many_through():
    cache = sfm.MemoryReplayCache()
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def use() -> None:
        barrier.wait()
        results.append(cache.first_use("k", NOW, NOW + timedelta(seconds=60)))

    threads = [threading.Thread(target=use) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


@pytest.mark.redis
def test_redis_replay_cache_is_shared_between_processes():
    import uuid

    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as e:
        service_missing("Redis", e)
    prefix = f"govhall-test-{uuid.uuid4().hex[:8]}:sfm:"
    one = sfm.RedisReplayCache.from_url(REDIS_URL, prefix)
    two = sfm.RedisReplayCache.from_url(REDIS_URL, prefix)  # another server process
    until = NOW + timedelta(seconds=90)
    assert one.first_use("demo:KEY1:00", NOW, until)
    assert not two.first_use("demo:KEY1:00", NOW, until)
    assert 0 < one.client.ttl(prefix + "demo:KEY1:00") <= 91


def test_trusted_keys_as_raw_bytes_and_broken_files_skipped(issuer, tmp_path):
    from cryptography.hazmat.primitives import serialization

    folder = tmp_path / "raw"
    folder.mkdir()
    raw = issuer.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (folder / f"{issuer.key_id}.pub").write_bytes(raw)
    (folder / "ZZZZ.pub").write_text("not a key")
    trusted = sfm.load_trusted(folder)
    assert list(trusted) == [issuer.key_id] and trusted[issuer.key_id].seal is None
    assert sfm.load_trusted(tmp_path / "missing") == {}


@pytest.mark.parametrize(("name", "version"), [("张三", 6), ("王大明", 7), ("阿不都热依木江", 7)])
def test_qr_is_version_7_or_less_at_level_m(issuer, name, version):
    segno = pytest.importorskip("segno")
    code = issuer.issue(ELDER, name, NOW)
    qr = segno.make_qr(code, error="m", boost_error=False)
    assert qr.mode == "alphanumeric" and qr.version == version <= 10
    assert len(code) <= 166


def test_check_digit_is_recomputed_not_carried(issuer, verifier):
    number = "32010219900307123" + identity.check_char("32010219900307123")
    assert verifier.verify(issuer.issue(number, "李四", NOW), NOW).id_number == number
