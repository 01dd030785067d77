"""The citizen's 帮办代办 phone pages: /help/{hall} to ask for help, /h/{follow_token} to follow the
request live, and that page's QR.

Public data only (masked name and phone, the helper's name, the steps); the live updates arrive over
Socket.IO on the screen `assist-follow:<token>`.
"""

from __future__ import annotations

import io
import re

import segno
from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from queue_server.queue.errors import NotFound
from queue_server.runtime import runtime
from queue_server.services import assist
from queue_server.services.common import hall_by_code

bp = Blueprint("assist_page", __name__, template_folder="templates")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _token(follow_token: str) -> str:
    if not TOKEN.match(follow_token):
        raise NotFound("没有找到该帮办代办请求")
    return follow_token


@bp.get("/help/<hall>")
def ask_page(hall: str) -> ResponseReturnValue:
    """A citizen asks for 帮办 or 代办 from their phone (the hall's QR posters point here)."""
    rt = runtime()
    with rt.database.read() as db:
        h = hall_by_code(db, hall)
        return render_template("assist_ask.html", hall=h, version=rt.version)


@bp.get("/h/<follow_token>")
def follow_page(follow_token: str) -> ResponseReturnValue:
    rt = runtime()
    view = assist.follow(rt.database, _token(follow_token))
    return render_template("assist_follow.html", view=view, version=rt.version)


@bp.get("/h/<follow_token>/qr.png")
def follow_qr(follow_token: str) -> ResponseReturnValue:
    """The QR of the phone page (printed on the kiosk receipt, shown on the kiosk screen), PNG."""
    base = runtime().settings.public_url or request.host_url.rstrip("/")
    buf = io.BytesIO()
    segno.make(f"{base}/h/{_token(follow_token)}", error="m").save(buf, kind="png", scale=8, border=2)
    return Response(buf.getvalue(), mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})
