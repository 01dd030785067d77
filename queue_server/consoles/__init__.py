"""The clerk's counter console (/counter/) and the manager's console (/manage/), with their login."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..queue.errors import RateLimited, Unauthorized
from ..runtime import runtime

bp = Blueprint("consoles", __name__, template_folder="templates")
HOME = {"clerk": "consoles.counter", "manager": "consoles.manage", "admin": "consoles.manage",
        "assistant": "consoles.assist"}


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(1, 60)])
    password = PasswordField("密码", validators=[DataRequired(), Length(1, 200)])


def _login_page(form: LoginForm, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("login.html", form=form, error=error, version=runtime().version,
                           next=request.args.get("next", "")), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Console login: a form with CSRF protection; the session keeps the staff token."""
    from ..api.auth_api import check_login

    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, "请输入用户名和密码" if request.method == "POST" else None,
                           400 if request.method == "POST" else 200)
    try:
        result = check_login(form.username.data or "", form.password.data or "")
    except (Unauthorized, RateLimited) as e:
        return _login_page(form, str(e), 429 if isinstance(e, RateLimited) else 401)
    session.clear()
    session["staff"] = result
    target = request.args.get("next", "")
    if not _local_path(target):
        target = url_for(HOME.get(result["role"], "consoles.counter"))
    return redirect(target)


def _local_path(target: str) -> bool:
    """Only a path on this server: no scheme or host, no backslash or control character
    (browsers drop tabs and newlines, so /%09/evil.com would become //evil.com)."""
    if not target.startswith("/") or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not target.startswith("//")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("consoles.login"))


def _staff(roles: tuple[str, ...]) -> dict[str, Any] | None:
    staff = session.get("staff")
    return staff if isinstance(staff, dict) and staff.get("role") in roles else None


def _elsewhere() -> ResponseReturnValue:
    """Not for this console: signed in with another role → that role's own console; else the login."""
    staff = session.get("staff")
    if isinstance(staff, dict) and staff.get("role") in HOME:
        return redirect(url_for(HOME[staff["role"]]))
    return redirect(url_for("consoles.login", next=request.path))


@bp.get("/counter/")
def counter() -> ResponseReturnValue:
    staff = _staff(("clerk", "manager", "admin"))
    if staff is None:
        return _elsewhere()
    return render_template("counter.html", staff=staff, version=runtime().version)


@bp.get("/manage/")
def manage() -> ResponseReturnValue:
    staff = _staff(("manager", "admin"))
    if staff is None:
        return _elsewhere()
    return render_template("manage.html", staff=staff, version=runtime().version)


@bp.get("/assist/")
def assist() -> ResponseReturnValue:
    """帮办代办 staff: open requests live, claim one, record progress, close it."""
    staff = _staff(("assistant", "manager", "admin"))
    if staff is None:
        return _elsewhere()
    from sqlalchemy import select

    from ..models import Staff

    with runtime().database.read() as db:  # the console marks the requests this staff member holds
        me = db.scalar(select(Staff.id).where(Staff.username == staff.get("username")))
    return render_template("assist.html", staff={**staff, "id": me}, version=runtime().version)
