"""Per-caller limits counted in each process and added to Redis together (limits.SharedCounts)."""

from __future__ import annotations

import uuid

import pytest
from limits import parse

from queue_server.limits import SharedCounts

from ..conftest import REDIS_URL, service_missing

pytestmark = pytest.mark.redis


@pytest.fixture
def client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as e:
        service_missing("Redis", e)
    return client


def processes(client, n: int) -> list[SharedCounts]:
    """n processes' counts on one Redis, under a prefix of their own."""
    prefix = f"govhall-test-limit-{uuid.uuid4().hex[:8]}"
    return [SharedCounts(client, prefix) for _ in range(n)]


def test_one_process_refuses_at_the_limit_without_asking_redis(client):
    (one,) = processes(client, 1)
    item = parse("3/minute")
    assert [one.hit(item, "take", "device:7") for _ in range(4)] == [True, True, True, False]
    assert one.hit(item, "take", "device:8")  # another kiosk counts apart
    assert not client.keys(f"{one.prefix}/*")  # nothing sent yet: no round trip per request
    one.sync()
    assert sorted(int(client.get(k)) for k in client.keys(f"{one.prefix}/*")) == [1, 3]


def test_processes_see_each_others_hits_once_added(client):
    one, two = processes(client, 2)
    item = parse("4/minute")
    assert [one.hit(item, "take", "device:7") for _ in range(2)] == [True, True]
    assert [two.hit(item, "take", "device:7") for _ in range(2)] == [True, True]
    one.sync()
    two.sync()  # adds its two to one's: reads back four
    assert not two.hit(item, "take", "device:7")
    # one read two back when it added its own: it lets one more through, then knows
    assert one.hit(item, "take", "device:7")
    one.sync()
    assert not one.hit(item, "take", "device:7") and not two.hit(item, "take", "device:7")


def test_hits_counted_while_redis_is_down_are_added_when_it_answers(client):
    (one,) = processes(client, 1)
    item = parse("5/minute")
    working = one.client
    redis = pytest.importorskip("redis")
    one.client = redis.Redis(port=1, socket_connect_timeout=0.2)  # nothing listens there
    assert [one.hit(item, "take", "device:7") for _ in range(3)] == [True] * 3
    with pytest.raises(redis.ConnectionError):
        one.sync()
    assert one.hit(item, "take", "device:7")  # still counted here meanwhile: the fourth
    one.client = working
    one.sync()
    (key,) = client.keys(f"{one.prefix}/*")
    assert int(client.get(key)) == 4 and 0 < client.ttl(key) <= 61
    assert one.hit(item, "take", "device:7") and not one.hit(item, "take", "device:7")


def test_two_servers_on_one_redis_limit_a_kiosk_together(client, settings, sqlite_db, kiosk, monkeypatch):
    from queue_server import create_app

    monkeypatch.setattr(SharedCounts, "SYNC_S", 3600.0)  # the test adds and reads back itself
    shared = settings.with_(rate_limit_storage=REDIS_URL, ticket_rate_limit="3/minute",
                            redis_channel=f"govhall-test-{uuid.uuid4().hex[:8]}")
    one, two = (create_app(shared, sqlite_db) for _ in range(2))

    def take(app):
        return app.test_client().post("/api/v1/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk)

    def added(app) -> None:
        app.extensions["govhall.shared_counts"].sync()

    assert take(one).status_code == 201 and take(two).status_code == 201
    added(one)
    added(two)  # reads back 2
    assert take(one).status_code == 201  # one knew of 1: the third
    added(one)  # reads back 3
    refused = take(one)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    # two last read 2 and has added nothing since: it lets one more through (the documented slack),
    # and refuses once it added that one and read the total back
    assert take(two).status_code == 201
    added(two)
    assert take(two).status_code == 429 and take(one).status_code == 429
