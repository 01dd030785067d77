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
