"""`govhall demo` pieces: the demo issuer key and the citizen phone page with a live code."""

from __future__ import annotations

import io

import numpy as np
import zxingcpp
from PIL import Image

from queue_server import create_app
from queue_server.demo import sfm_issuer


def test_demo_phone_code_is_accepted_once_by_identify(settings, sqlite_db, kiosk, tmp_path):
    key = sfm_issuer(tmp_path, reset=True)
    app = create_app(settings.with_(demo_sfm_key=key, sfm_trust_path=tmp_path / "sfm"), sqlite_db)
    client = app.test_client()
    assert "苏服码" in client.get("/demo/sfm").get_data(as_text=True)
    r = client.get("/demo/sfm/code.png?who=elderly")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    image = np.array(Image.open(io.BytesIO(r.data)).convert("L"))
    (code,) = [b.text for b in zxingcpp.read_barcodes(image)]
    assert code.startswith("GH1:") and code == r.headers["X-Code"]
    first = client.post("/api/v1/identify", json={"kind": "sfm", "code": code}, headers=kiosk)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["priority"] == "elderly" and first.get_json()["masked_name"] == "王*国"
    again = client.post("/api/v1/identify", json={"kind": "sfm", "code": code}, headers=kiosk)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "sfm_replayed"
    assert client.get("/demo/sfm/code.png?who=nobody").status_code == 404


def test_demo_pages_exist_only_in_the_demo(client):
    assert client.get("/demo/sfm").status_code == 404


def test_govhall_demo_serves_everything_it_prints_and_keeps_its_hall(tmp_path):
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from ..conftest import free_port

    port = free_port(span=2)  # the demo's kiosk agent listens on port + 1
    env = {**os.environ, "GOVHALL_INSTANCE_PATH": str(tmp_path), "GOVHALL_DEMO_PASSWORD": "demo-pw-1"}

    def run():
        log = open(tmp_path / "demo.log", "ab")  # noqa: SIM115 - closed after the process ends
        proc = subprocess.Popen([sys.executable, "-m", "queue_server.cli", "demo", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 40
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/agent/ready", timeout=1), \
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        return proc, log

    def status(url):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    proc, log = run()
    try:
        info = json.loads((tmp_path / "demo.json").read_text())
        assert set(info) >= {"urls", "logins", "kiosk_token", "sfm_key"}
        assert info["logins"]["password"] == "demo-pw-1" and "clerk1" in info["logins"]["clerks"]
        for name in ("hall_display", "window_display", "counter", "manager", "public_waits",
                     "citizen_code", "api", "kiosk_terminal"):
            assert status(info["urls"][name]) == 200, name
        assert status(info["urls"]["kiosk"].split("#")[0]) == 200
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    proc, log = run()  # a restart keeps the same hall and logins
    try:
        again = json.loads((tmp_path / "demo.json").read_text())
        assert again["kiosk_token"] == info["kiosk_token"] and again["logins"] == info["logins"]
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
