"""Every refusal leaves as `{"error": {"code", "message"}}` with a 4xx: domain errors mapped once here."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .queue import errors as qe

log = logging.getLogger(__name__)

STATUS: dict[type[qe.QueueError], int] = {
    qe.NotFound: 404,
    qe.Unauthorized: 401,
    qe.Forbidden: 403,
    qe.Conflict: 409,
    qe.BadRequest: 400,
    qe.RateLimited: 429,
    qe.Unavailable: 503,
}

# Werkzeug's names for the statuses we answer, as stable codes.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid_input", 429: "rate_limited", 503: "unavailable"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "detail": {"type": "object"},
            },
        }
    },
}


def body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if detail:
        error["detail"] = detail
    return {"error": error}


def _validation_message(detail: Any) -> str:
    """One readable sentence out of marshmallow's nested messages."""
    parts = []
    for location in (detail or {}).values():
        if isinstance(location, dict):
            for field, messages in location.items():
                text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
                parts.append(f"{field}: {text}")
    return "输入有误：" + ("; ".join(parts) if parts else "请检查请求内容")


def register(app: APIFlask) -> None:
    app.config["HTTP_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["VALIDATION_ERROR_SCHEMA"] = ERROR_SCHEMA

    @app.error_processor
    def http_error(error: HTTPError) -> ResponseReturnValue:
        status = error.status_code
        code = (error.extra_data or {}).get("code") or HTTP_CODES.get(status, "error")
        if status == 422 or (status == 400 and error.detail):
            message = _validation_message(error.detail)
            return body("invalid_input", message, error.detail), 422 if status == 422 else 400, error.headers
        return body(code, error.message or code), status, error.headers

    @app.errorhandler(qe.QueueError)
    def refused(e: qe.QueueError) -> ResponseReturnValue:
        status = next((s for c, s in STATUS.items() if isinstance(e, c)), 400)
        return body(e.code, str(e)), status

    @app.errorhandler(429)
    def too_many(e: HTTPException) -> ResponseReturnValue:
        # The limit's window: the longest a client has to wait (the per-response X-RateLimit headers
        # are off, as each cost a round trip to Redis on every limited request)
        limit = getattr(getattr(e, "limit", None), "limit", None)  # Flask-Limiter's, or ours (limits.py)
        after = getattr(e, "retry_after", None) or (limit.get_expiry() if limit is not None else None)
        retry = {"Retry-After": str(after)} if after else {}
        return body("rate_limited", "请求过于频繁，请稍后再试"), 429, retry

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> ResponseReturnValue:
        if isinstance(e, HTTPException):
            status = e.code or 500
            return body(HTTP_CODES.get(status, "error"), e.description or e.name), status
        log.exception("unexpected error")
        return body("internal_error", "服务暂时不可用，请稍后再试"), 500
