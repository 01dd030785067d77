"""The demo's citizen phone page: a live 苏服码-style code that refreshes every 30 seconds.

In a real hall the code comes from the province's app; the demo signs codes with its own issuer
key (instance/sfm-issuer.pem) for two sample citizens, so the kiosk flow can be tried end to end.
"""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from . import clock
from .queue.errors import NotFound
from .runtime import runtime
from .sfm import Issuer

bp = Blueprint("demo_pages", __name__)

# Sample citizens with valid GB 11643 numbers (the standard's own example, and a made-up one).
CITIZENS = {
    "elderly": ("王建国", "11010519491231002X", "王*国，1949年生（老年人优先）"),
    "adult": ("李华", "320102199003071239", "李*，1990年生"),
}
CODE_TTL = 60


@bp.get("/demo/sfm")
def phone_page() -> ResponseReturnValue:
    who = request.args.get("who", "elderly")
    if who not in CITIZENS:
        raise NotFound("没有该演示市民")
    return render_template("demo_sfm.html", who=who, citizens=CITIZENS, version=runtime().version)


@bp.get("/demo/sfm/code.png")
def code_png() -> ResponseReturnValue:
    """A fresh signed code for a sample citizen, as a QR image (never cached)."""
    who = request.args.get("who", "elderly")
    if who not in CITIZENS:
        raise NotFound("没有该演示市民")
    key = runtime().settings.demo_sfm_key
    if key is None:
        raise NotFound("演示签发密钥未配置")
    name, number, _ = CITIZENS[who]
    code = Issuer.load(key).issue(number, name, clock.now(), CODE_TTL)
    buf = io.BytesIO()
    segno.make(code, error="m").save(buf, kind="png", scale=8, border=3)
    return Response(buf.getvalue(), mimetype="image/png",
                    headers={"Cache-Control": "no-store", "X-Code": code})
