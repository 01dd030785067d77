"""Screen pages: the hall display, a window's display, the public waits page and the phone tracking page.

They carry public data only (numbers, windows, waits); the live data arrives over Socket.IO.
"""

from __future__ import annotations

import io
import re

import segno
from flask import Blueprint, Response, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue

from queue_server.models import Window
from queue_server.queue.errors import BadRequest, NotFound
from queue_server.runtime import WEB, runtime
from queue_server.services.common import hall_by_code

from .voice import Voice, VoiceUnavailable, chime

bp = Blueprint("display", __name__, template_folder="templates")
NUMBER = re.compile(r"^[A-Z][0-9]{3,4}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
VENDOR = {"socket.io.min.js": WEB / "node_modules" / "socket.io-client" / "dist",
          "echarts.min.js": WEB / "node_modules" / "echarts" / "dist",
          "modern.json": WEB / "node_modules" / "@pinyin-pro" / "data" / "json",
          "index.js": WEB / "node_modules" / "pinyin-pro" / "dist"}  # pinyin-pro's UMD build


def _voice() -> Voice:
    rt = runtime()
    return Voice(rt.settings.instance_path / "audio")


@bp.get("/display/hall/<hall>")
def hall_display(hall: str) -> ResponseReturnValue:
    with runtime().database.read() as db:
        h = hall_by_code(db, hall)
        return render_template("hall.html", hall=h, version=runtime().version)


@bp.get("/display/window/<int(max=2147483647):window>")
def window_display(window: int) -> ResponseReturnValue:
    with runtime().database.read() as db:
        w = db.get(Window, window)
        if w is None:
            raise NotFound(f"没有编号为 {window} 的窗口")
        return render_template("window.html", window=w, hall=w.hall, version=runtime().version)


@bp.get("/rate/<int(max=2147483647):window>")
def rating_pad(window: int) -> ResponseReturnValue:
    """The citizen-facing rating pad (窗口评价器) of one window; its device token comes in #token=."""
    with runtime().database.read() as db:
        w = db.get(Window, window)
        if w is None:
            raise NotFound(f"没有编号为 {window} 的窗口")
        return render_template("rate.html", window=w, hall=w.hall, version=runtime().version)


@bp.get("/w/<hall>")
def public_waits(hall: str) -> ResponseReturnValue:
    with runtime().database.read() as db:
        h = hall_by_code(db, hall)
        return render_template("waits.html", hall=h, version=runtime().version)


@bp.get("/t/<track_token>")
def track_page(track_token: str) -> ResponseReturnValue:
    return render_template("track.html", track_token=track_token, version=runtime().version)


@bp.get("/t/<track_token>/qr.png")
def track_qr(track_token: str) -> ResponseReturnValue:
    """The QR of a ticket's tracking page (shown by the kiosk to photograph), as PNG."""
    if not TOKEN.match(track_token):
        raise NotFound("没有找到这张号票")
    base = runtime().settings.public_url or request.host_url.rstrip("/")
    buf = io.BytesIO()
    segno.make(f"{base}/t/{track_token}", error="m").save(buf, kind="png", scale=8, border=2)
    return Response(buf.getvalue(), mimetype="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/display/audio/chime.wav")
def chime_wav() -> ResponseReturnValue:
    return Response(chime(), mimetype="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/display/audio/call.wav")
def call_wav() -> ResponseReturnValue:
    """The spoken call (chime + Mandarin sentence), synthesised offline and cached."""
    number = request.args.get("number", "")
    try:
        window = int(request.args.get("window", ""))
    except ValueError:
        raise BadRequest("window 应为窗口号") from None
    if not NUMBER.match(number) or not 1 <= window <= 999:
        raise BadRequest("number 应形如 A012，window 为 1–999")
    try:
        wav = _voice().call_wav(number, window, recall=request.args.get("recall") == "1")
    except VoiceUnavailable as e:
        return {"error": {"code": "voice_unavailable", "message": str(e)}}, 503
    return Response(wav, mimetype="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/static/vendor/<name>")
def vendor(name: str) -> ResponseReturnValue:
    """Browser libraries installed from npm (assets/web/package-lock.json), served offline."""
    folder = VENDOR.get(name)
    if folder is None:
        raise NotFound("没有该文件")
    return send_from_directory(folder, name, max_age=3600)
