"""POST /api/v1/identify: 苏服码-style codes and ID cards verified on the server; `govhall sfm`."""

from __future__ import annotations

import base45
import pytest
from click.testing import CliRunner

from queue_server import clock, identity_tokens, sfm
from queue_server.cli import main
from queue_server.queue import identity

from ..conftest import TEST_SECRET


def number(first17: str) -> str:
    return first17 + identity.check_char(first17)


BORN_1950 = number("32010219500315001")  # odd sequence: male
BORN_1990 = number("32010219900307124")  # even sequence: female
BAD_CHECK = BORN_1950[:-1] + ("0" if BORN_1950[-1] != "0" else "1")


@pytest.fixture
def issuer(settings, tmp_path):
    """An issuer key that the app under test trusts (its folder of trusted keys)."""
    files = sfm.keygen(tmp_path / "keys" / "issuer.pem")
    sfm.trust(files.private, settings.instance_path / "sfm")
    return sfm.Issuer.load(files.private)


def identify(client, headers, body):
    r = client.post("/api/v1/identify", json=body, headers=headers)
    return r.status_code, r.get_json()


def test_a_fresh_code_identifies_an_elderly_citizen_once(client, kiosk, issuer):
    code = issuer.issue(BORN_1950, "王大明", clock.now())
    status, body = identify(client, kiosk, {"kind": "sfm", "code": code})
    assert status == 200, body
    assert body["masked_name"] == "王*明" and body["priority"] == "elderly" and body["kind"] == "sfm"
    assert body["masked_id"] == "3201**********" + BORN_1950[-4:] and body["age"] >= 75
    assert BORN_1950 not in str(body)
    status, again = identify(client, kiosk, {"kind": "sfm", "code": code})
    assert status == 409 and again["error"]["code"] == "sfm_replayed"
    assert "已使用过" in again["error"]["message"]


def test_the_identity_token_gives_the_ticket_its_priority(client, kiosk, issuer):
    code = issuer.issue(BORN_1950, "王大明", clock.now())
    token = identify(client, kiosk, {"kind": "sfm", "code": code})[1]["identity_token"]
    r = client.post("/api/v1/halls/demo/tickets", json={"bundle": "newborn", "identity_token": token},
                    headers=kiosk)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["priority"] == "elderly"


def test_code_and_card_give_the_same_person_the_same_hash(client, kiosk, issuer):
    by_code = identify(client, kiosk, {"kind": "sfm", "code": issuer.issue(BORN_1990, "李小红", clock.now())})[1]
    by_card = identify(client, kiosk, {"kind": "idcard", "card": {
        "name": "李小红", "id_number": BORN_1990, "birth_date": "19900307", "sex": "女",
        "address": "南京市玄武区", "nation": "汉"}})[1]
    assert by_code["priority"] == by_card["priority"] == "none"
    assert by_code["masked_name"] == by_card["masked_name"] == "李*红"
    one, two = (identity_tokens.verify(TEST_SECRET, b["identity_token"]) for b in (by_code, by_card))
    assert one.id_hash == two.id_hash and len(one.id_hash) == 64


@pytest.mark.parametrize(("card", "status", "code"), [
    ({"name": "张三", "id_number": BAD_CHECK}, 400, "invalid_id_number"),
    ({"name": "张三", "id_number": BORN_1950, "birth_date": "1950-03-16"}, 400, "idcard_mismatch"),
    ({"name": "张三", "id_number": BORN_1950, "sex": "2"}, 400, "idcard_mismatch"),
    ({"name": "张三", "id_number": BORN_1950, "sex": "男", "birth_date": "1950-03-15"}, 200, None),
    ({"name": "张三", "id_number": BORN_1950.lower()}, 200, None),
    ({"name": "张三", "id_number": "".join(chr(0x660 + int(c)) if c.isdigit() else c for c in BORN_1950)},
     400, "invalid_id_number"),
    ({"name": "  ", "id_number": BORN_1950}, 422, "invalid_input"),
    ({"id_number": BORN_1950}, 422, "invalid_input"),
    ({"name": "张三", "id_number": BORN_1950, "sex": "M"}, 422, "invalid_input"),
])
def test_id_cards_are_checked_not_trusted(client, kiosk, card, status, code):
    got, body = identify(client, kiosk, {"kind": "idcard", "card": card})
    assert got == status, body
    if code:
        assert body["error"]["code"] == code
    else:
        assert body["masked_name"] == "张*" and body["priority"] == "elderly"


@pytest.mark.parametrize("body", [
    {"kind": "sfm"}, {"kind": "idcard"}, {"kind": "passport", "code": "x"}, {}, {"kind": "sfm", "code": ""},
])
def test_bad_bodies_are_4xx_with_the_error_shape(client, kiosk, body):
    status, answer = identify(client, kiosk, body)
    assert status == 422 and answer["error"]["code"] == "invalid_input"


def test_refused_codes_have_their_own_codes(client, kiosk, issuer, tmp_path):
    now = clock.now()
    stranger = sfm.Issuer.load(sfm.keygen(tmp_path / "stranger.pem").private)
    cases = {
        "sfm_malformed": "GH1:NOT A CODE",
        "sfm_foreign_key": stranger.issue(BORN_1950, "王大明", now),
        "sfm_expired": issuer.issue(BORN_1950, "王大明", now.replace(year=now.year - 1)),
    }
    raw = bytearray(base45.b45decode(issuer.issue(BORN_1950, "王大明", now)[4:]))
    raw[-1] ^= 0x01  # the signature's last byte
    cases["sfm_tampered"] = "GH1:" + base45.b45encode(bytes(raw)).decode()
    for expected, text in cases.items():
        status, body = identify(client, kiosk, {"kind": "sfm", "code": text})
        assert (status, body["error"]["code"]) == (400, expected), body


def test_a_server_without_the_seal_key_cannot_identify(client, kiosk, issuer, settings):
    (settings.instance_path / "sfm" / f"{issuer.key_id}.seal").unlink()
    status, body = identify(client, kiosk, {"kind": "sfm", "code": issuer.issue(BORN_1950, "王大明", clock.now())})
    assert status == 400 and body["error"]["code"] == "sfm_unreadable"


def test_who_may_identify(client, kiosk, login, issuer):
    card = {"kind": "idcard", "card": {"name": "张三", "id_number": BORN_1950}}
    assert identify(client, {}, card)[0] == 401
    assert identify(client, {"Authorization": "Bearer nonsense"}, card)[0] == 401
    assert identify(client, login("clerk1"), card)[0] == 200
    assert identify(client, login("manager"), card)[0] == 200


def test_the_openapi_document_lists_identify(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/identify"]["post"]
    assert {"200", "400", "401", "403", "409"} <= set(post["responses"])


def test_cli_keygen_then_issue_prints_only_the_code(tmp_path, client, kiosk, settings):
    runner = CliRunner()
    key = tmp_path / "cli" / "issuer.pem"
    made = runner.invoke(main, ["sfm", "keygen", "--out", str(key), "--trust",
                                str(settings.instance_path / "sfm")])
    assert made.exit_code == 0, made.output
    assert key.exists() and (tmp_path / "cli" / "issuer.pem.pub").exists() and "key id" in made.output
    issued = runner.invoke(main, ["sfm", "issue", "--key", str(key), "--id-number", BORN_1950,
                                  "--name", "王大明", "--ttl", "120"])
    assert issued.exit_code == 0, issued.output
    code = issued.stdout.strip()
    assert issued.stdout == code + "\n" and code.startswith("GH1:") and "\n" not in code
    status, body = identify(client, kiosk, {"kind": "sfm", "code": code})
    assert status == 200 and body["masked_name"] == "王*明", body
    again = runner.invoke(main, ["sfm", "keygen", "--out", str(key)])
    assert again.exit_code != 0 and "--force" in again.output


@pytest.mark.parametrize(("args", "why"), [
    (["--id-number", BAD_CHECK, "--name", "王大明"], "校验位"),
    (["--id-number", BORN_1950, "--name", "王大明", "--ttl", "301"], "301"),
    (["--id-number", BORN_1950, "--name", " "], "姓名"),
])
def test_cli_issue_refuses_bad_input(tmp_path, args, why):
    key = sfm.keygen(tmp_path / "issuer.pem").private
    result = CliRunner().invoke(main, ["sfm", "issue", "--key", str(key), *args])
    assert result.exit_code != 0 and result.stdout == "" and why in result.output


@pytest.mark.redis
def test_with_redis_a_code_works_once_across_server_processes(settings, sqlite_db, kiosk, issuer):
    import uuid

    import redis

    from queue_server import create_app

    from ..conftest import REDIS_URL, service_missing

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as e:
        service_missing("Redis", e)
    shared = settings.with_(redis_url=REDIS_URL, redis_channel=f"govhall-test-{uuid.uuid4().hex[:8]}",
                            rate_limit_storage="memory://")
    one, two = (create_app(shared, sqlite_db).test_client() for _ in range(2))
    code = issuer.issue(BORN_1950, "王大明", clock.now())
    assert identify(one, kiosk, {"kind": "sfm", "code": code})[0] == 200
    status, body = identify(two, kiosk, {"kind": "sfm", "code": code})
    assert status == 409 and body["error"]["code"] == "sfm_replayed"


# --- Redis down: every endpoint that touches it degrades clearly, never 500 ----------------------

@pytest.fixture
def redis_down(settings, sqlite_db):
    """The app with its Redis (replay store, rate-limit storage, Socket.IO queue) on a closed port."""
    from queue_server import create_app

    from ..conftest import free_port

    down = settings.with_(redis_url=f"redis://127.0.0.1:{free_port()}/0", ticket_rate_limit="3/minute")
    app = create_app(down, sqlite_db)
    app.config["TESTING"] = True
    return app.test_client()


def test_without_redis_a_code_is_refused_with_503_and_the_card_still_works(redis_down, kiosk, issuer):
    status, body = identify(redis_down, kiosk, {"kind": "sfm", "code": issuer.issue(BORN_1950, "王大明",
                                                                                   clock.now())})
    assert status == 503 and body["error"]["code"] == "sfm_unavailable"
    assert "身份证" in body["error"]["message"] and "不核验身份" in body["error"]["message"]
    status, body = identify(redis_down, kiosk, {"kind": "idcard", "card": {"name": "张三", "id_number": BORN_1950}})
    assert status == 200 and body["priority"] == "elderly"


def test_without_redis_tickets_and_reads_work_and_their_limits_still_count(redis_down, kiosk):
    statuses = [redis_down.post("/api/v1/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk).status_code
                for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert redis_down.get("/api/v1/halls/demo/bundles").status_code == 200


def test_without_redis_logins_work_and_failures_are_still_limited(redis_down):
    from ..conftest import DEMO_PASSWORD

    def login(password: str) -> int:
        return redis_down.post("/api/v1/auth/login", json={"username": "clerk2", "password": password}).status_code

    assert login(DEMO_PASSWORD) == 200
    assert [login("wrong") for _ in range(5)] == [401] * 5
    r = redis_down.post("/api/v1/auth/login", json={"username": "clerk2", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"


def test_the_kiosk_offers_the_other_ways_when_codes_are_unavailable(tmp_path):
    """sfm_unavailable is the server's answer, not a lost server: the agent says so and logs no fault."""
    from kiosk.agent import Agent, AgentConfig
    from kiosk.devices import open_devices
    from kiosk.server_client import Reply

    refusal = {"error": {"code": "sfm_unavailable", "message": sfm.UNAVAILABLE}}

    class Server:
        def request(self, method, path, body=None, *args):
            return Reply(503, refusal)

    agent = Agent(AgentConfig(server="http://127.0.0.1:9", token="x", instance=tmp_path),
                  open_devices("none", "none", "none"))
    agent.server = Server()
    events = agent.hub.subscribe()
    agent.identify({"kind": "sfm", "code": "GH1:…"}, "sfm")
    event = events.get_nowait()
    assert event == {"type": "identify_failed", "via": "sfm", "code": "sfm_unavailable",
                     "message": sfm.UNAVAILABLE}
    assert agent.device_state.get("server", {}).get("ok") is not False
    assert not (tmp_path / "kiosk-faults.log").exists()
