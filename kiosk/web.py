"""The web kiosk page the server also serves (/kiosk/), for the demo and browser-only terminals."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from queue_server.runtime import runtime

bp = Blueprint("kiosk", __name__, template_folder="templates")


@bp.get("/kiosk/")
def kiosk_page() -> ResponseReturnValue:
    """Take a number; the device token comes from the URL fragment (#token=…) or the terminal's storage."""
    return render_template("kiosk.html", version=runtime().version)
