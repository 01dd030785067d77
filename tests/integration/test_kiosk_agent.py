"""The kiosk agent against a real server, with simulated devices speaking their real protocols.

An ID card placed on the simulated reader goes through the serial driver to the server's
/identify; the UI only sees the masked name and an identity token. Taking a number goes through
the agent (the device token never reaches the browser), a retried press makes one ticket, and the
ticket prints through the ESC/POS driver — or, with the paper out, stays valid on screen.
"""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest

from kiosk.agent import Agent, AgentConfig, create_agent_app
from kiosk.devices import open_devices


@pytest.fixture
def agent_client(live_server, tmp_path):
    manager = live_server.login("manager")
    _, device = live_server.call("POST", "/halls/demo/devices", manager, {"kind": "kiosk", "name": "t"})
    devices = open_devices("sim", "sim", "sim")
    agent = Agent(AgentConfig(server=live_server.url, token=device["token"], instance=tmp_path), devices)
    agent.start()
    app = create_agent_app(agent)
    app.config["TESTING"] = True
    yield agent, app.test_client()
    agent.stop()


def collect(agent, until_type, timeout=10.0):
    q = agent.hub.subscribe()
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                event = q.get(timeout=0.2)
            except queue.Empty:
                continue
            if event["type"] == until_type or event["type"] == "identify_failed":
                return event
    finally:
        agent.hub.unsubscribe(q)
    raise AssertionError(f"no {until_type} event")


def test_id_card_identifies_through_the_server_without_personal_data(agent_client):
    agent, client = agent_client
    got = {}
    t = threading.Thread(target=lambda: got.update(collect(agent, "identified")))
    t.start()
    time.sleep(0.2)
    assert client.post("/agent/sim/card", json={"who": "elderly"}).status_code == 200
    t.join(15)
    assert got["type"] == "identified", got
    assert got["masked_name"] == "王*国" and got["priority"] == "elderly"
    assert "11010519491231002X" not in json.dumps(got) and got["masked_id"].startswith("1101")
    r = client.post("/agent/api/halls/demo/tickets", json={"bundle": "newborn",
                                                           "identity_token": got["identity_token"]})
    assert r.status_code == 201 and r.get_json()["priority"] == "elderly"


def test_take_a_number_and_print_it(agent_client):
    agent, client = agent_client
    key = {"Idempotency-Key": "press-1"}
    first = client.post("/agent/api/halls/demo/tickets", json={"bundle": "retirement"}, headers=key)
    again = client.post("/agent/api/halls/demo/tickets", json={"bundle": "retirement"}, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    ticket = first.get_json()
    assert again.get_json()["id"] == ticket["id"]
    printed = client.post("/agent/print/ticket", json={"ticket": ticket, "hall_name": "示范市政务服务中心"})
    assert printed.get_json()["printed"] is True
    output = agent.devices.printer.output
    assert b"\x1dv0" in output  # the raster ticket went out as GS v 0
    agent.devices.printer.condition = "paper_out"
    out = client.post("/agent/print/ticket", json={"ticket": ticket}).get_json()
    assert out["printed"] is False and "号票已生效" in out["message"]
    faults = (agent.config.instance / "kiosk-faults.log").read_text(encoding="utf-8")
    assert "paper_out" in faults


def test_server_unreachable_is_a_readable_refusal(tmp_path, monkeypatch):
    import kiosk.server_client as sc

    monkeypatch.setattr(sc, "RETRY_DELAYS", (0.01,))
    devices = open_devices("none", "none", "none")
    agent = Agent(AgentConfig(server="http://127.0.0.1:9", token="x", instance=tmp_path), devices)
    client = create_agent_app(agent).test_client()
    r = client.post("/agent/api/halls/demo/tickets", json={"bundle": "newborn"},
                    headers={"Idempotency-Key": "k"})
    assert r.status_code == 503
    assert r.get_json()["error"]["message"].startswith("网络连接中断")
    assert "server_unreachable" in (tmp_path / "kiosk-faults.log").read_text(encoding="utf-8")


def test_agent_draws_qr_codes_only_for_its_own_server(agent_client):
    import io

    import numpy as np
    import zxingcpp
    from PIL import Image

    agent, client = agent_client
    url = f"{agent.config.server}/t/some-track-token"
    r = client.get("/agent/qr.png", query_string={"data": url})
    assert r.status_code == 200
    image = np.array(Image.open(io.BytesIO(r.data)).convert("L"))
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [url]
    assert client.get("/agent/qr.png", query_string={"data": "http://evil.example/x"}).status_code == 400


def test_agent_answers_only_its_own_terminal(tmp_path):
    agent = Agent(AgentConfig(server="http://127.0.0.1:9", token="x", instance=tmp_path),
                  open_devices("none", "none", "none"))
    client = create_agent_app(agent).test_client()
    assert client.get("/agent/ready").status_code == 200
    assert client.get("/agent/ready", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    refused = client.get("/agent/events", headers={"Host": "rebind.example:8765"})
    assert refused.status_code == 403


def test_card_fields_reach_the_page_but_never_the_id_number(agent_client):
    agent, client = agent_client
    got = {}
    t = threading.Thread(target=lambda: got.update(collect(agent, "identified")))
    t.start()
    time.sleep(0.2)
    assert client.post("/agent/sim/card", json={"who": "adult"}).status_code == 200
    t.join(15)
    assert got["card"] == {"name": "张三", "sex": "男", "nation": "汉族", "birth_date": "1990-03-07",
                           "address": "江苏省南京市玄武区北京东路41号"}
    assert "320102199003071239" not in json.dumps(got, ensure_ascii=False)


def test_notice_and_receipt_print_from_the_servers_data(agent_client):
    agent, client = agent_client
    printed = client.post("/agent/print/notice", json={"bundle": "newborn", "hall_name": "示范市政务服务中心"})
    assert printed.status_code == 200 and printed.get_json()["printed"] is True
    texts = agent.devices.printer.documents[-1].texts()
    assert "一次告知单" in texts and "示范市政务服务中心" in texts
    assert any("出生医学证明" in t for t in texts), texts
    # bad input: 4xx with a readable error, never a 500
    assert client.post("/agent/print/notice", json={"bundle": "../x"}).status_code == 400
    assert client.post("/agent/print/notice", data="nope").status_code == 400
    assert client.post("/agent/print/notice", json={"bundle": "no-such-bundle"}).status_code == 404
    assert client.post("/agent/print/receipt", json={"application": "SQ1"}).status_code == 400
    r = client.post("/agent/print/receipt", json={"application": "SQ20261123-0001", "identity_token": "forged"})
    assert 400 <= r.status_code < 500 and r.get_json()["error"]["message"]
    # paper out: refused before printing, said plainly, logged for the technician
    agent.devices.printer.condition = "paper_out"
    out = client.post("/agent/print/notice", json={"bundle": "newborn"}).get_json()
    assert out["printed"] is False and "缺纸" in out["message"] and "告知内容" in out["message"]
    assert "paper_out" in (agent.config.instance / "kiosk-faults.log").read_text(encoding="utf-8")


def test_pinyin_dictionaries_are_served_offline(agent_client):
    _, client = agent_client
    r = client.get("/static/vendor/modern.json")
    assert r.status_code == 200 and "一下" in r.get_data(as_text=True)[:2000]
    r.close()
    r = client.get("/static/vendor/index.js")  # pinyin-pro's UMD build
    assert r.status_code == 200 and b"pinyinPro" in r.get_data()
    r.close()
    assert client.get("/static/vendor/nope.js").status_code == 404
