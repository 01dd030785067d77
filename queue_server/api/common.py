"""Helpers the API views share: the clock, publishing, and the error responses each route documents."""

from __future__ import annotations

from datetime import datetime

from .. import clock

REFUSALS = {401: "未登录或令牌无效", 403: "无权进行此操作", 404: "不存在", 409: "状态冲突"}


def now() -> datetime:
    return clock.now()


def responses(*codes: int) -> dict[int, str]:
    """The documented error responses of a route (they share the error schema)."""
    return {c: REFUSALS.get(c, "错误") for c in codes}
