"""Identifying a citizen at a kiosk (苏服码-style code or ID card), checked here, not on the kiosk.

Both ways end in the same identity token: the keyed hash of the ID number, the birth date and the
masked name (identity_tokens). The ID number itself is hashed, masked and dropped.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, Nested, String
from apiflask.validators import Length, OneOf, Regexp
from flask import current_app
from marshmallow import EXCLUDE, ValidationError, validates_schema

from .. import identity_tokens, sfm, tokens
from ..auth import auth, current
from ..limits import per_caller
from ..models import Hall
from ..queue import identity
from ..queue.errors import BadRequest, Forbidden, InvalidIdNumber
from ..queue.priority import Identity, age_on, entitled
from ..runtime import runtime
from ..services.common import today
from .common import now

bp = APIBlueprint("identify", __name__, url_prefix="/api/v1", tag="Identify")

SEXES = {"男": "男", "女": "女", "1": "男", "2": "女"}  # the card's text, or its GB/T 2261.1 code


class IdCardMismatch(BadRequest):
    code = "idcard_mismatch"


class CardIn(Schema):
    """The text an ID card reader decoded; other fields are ignored and never kept."""

    class Meta:
        unknown = EXCLUDE

    name = String(required=True, validate=[Length(1, 60), Regexp(r"^\s*\S")])
    id_number = String(required=True, validate=Length(1, 40))
    birth_date = String(validate=Regexp(r"^\d{4}-?\d{2}-?\d{2}$"),
                        metadata={"description": "YYYYMMDD as on the card, or YYYY-MM-DD"})
    sex = String(validate=OneOf(list(SEXES)), metadata={"description": "男/女, or the code 1/2"})


class IdentifyIn(Schema):
    kind = String(required=True, validate=OneOf(["sfm", "idcard"]))
    code = String(validate=Length(1, 400), metadata={"description": "the scanned text, GH1:…"})
    card = Nested(CardIn)

    @validates_schema
    def _needs_its_part(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("kind") == "sfm" and "code" not in data:
            raise ValidationError("扫码核验需要二维码内容", "code")
        if data.get("kind") == "idcard" and "card" not in data:
            raise ValidationError("刷证核验需要身份证信息", "card")


class IdentifyOut(Schema):
    kind = String(required=True)
    identity_token = String(required=True)
    expires_in = Integer(required=True, metadata={"description": "seconds the identity token lives"})
    masked_name = String(required=True)
    masked_id = String(required=True)
    priority = String(required=True, metadata={"description": "elderly or none"})
    age = Integer(required=True)


REFUSALS = {
    400: "无法核验：invalid_id_number, idcard_mismatch, sfm_malformed, sfm_foreign_key, sfm_tampered, "
         "sfm_bad_lifetime, sfm_expired, sfm_not_yet_valid, sfm_unreadable",
    401: "未登录或令牌无效",
    403: "无权进行此操作（非自助终端或工作人员，或账号不属于任何大厅）",
    409: "sfm_replayed：该二维码已使用过",
    429: "请求过于频繁",
    503: "sfm_unavailable：扫码核验暂时无法使用（二维码防重放存储不可达），可刷身份证或不核验身份取号",
}

_LOCK = threading.Lock()


def replay_cache() -> sfm.ReplayCache:
    """This app's memory of used codes: Redis (shared by every process) when configured."""
    with _LOCK:
        cache: sfm.ReplayCache | None = current_app.extensions.get("govhall.sfm_replay")
        if cache is None:
            settings = runtime().settings
            cache = (sfm.RedisReplayCache.from_url(settings.redis_url, f"{settings.redis_channel}:sfm:")
                     if settings.redis_url else sfm.MemoryReplayCache())
            current_app.extensions["govhall.sfm_replay"] = cache
        return cache


def verifier() -> sfm.CodeVerifier:
    """The code verifier: offline against the trusted keys (a provincial check plugs in here)."""
    settings = runtime().settings
    trusted = sfm.load_trusted(settings.sfm_trust_path or settings.instance_path / "sfm")
    # One scope for the whole platform: a code seen in any hall is refused everywhere after
    # (DESIGN.md: a nonce is refused when seen again), so a photographed code cannot be reused
    # next door; the Redis cache makes that hold across server processes.
    return sfm.OfflineVerifier(trusted, replay_cache(), scope="platform")


@bp.post("/identify")
@bp.auth_required(auth, roles=["kiosk", "clerk", "manager"])
@bp.input(IdentifyIn, arg_name="body")
@bp.output(IdentifyOut)
@bp.doc(summary="Identify a citizen by 苏服码-style code or ID card",
        description="Verifies on the server and answers an identity token for take-a-number, with "
        "the masked name and the priority (绿色通道) the person is entitled to in the caller's hall.",
        responses=REFUSALS)
@per_caller(lambda: runtime().settings.ticket_rate_limit)
def identify(body: dict[str, Any]) -> dict[str, Any]:
    rt, who, at = runtime(), current(), now()
    if who.hall_id is None:
        raise Forbidden("该账号不属于任何大厅，不能核验身份")
    with rt.database.read() as db:
        hall = db.get_one(Hall, who.hall_id)
        elderly_age, day = hall.elderly_age, today(hall, at)
    if body["kind"] == "sfm":
        number, masked = _from_code(body["code"], at)
    else:
        number, masked = _from_card(body["card"], day)
    born = identity.birth_date(number)
    person = Identity(id_hash=tokens.identity_hash(rt.settings.secret_key, number), birth_date=born,
                      masked_name=masked)
    return {
        "kind": body["kind"],
        "identity_token": identity_tokens.issue(rt.settings.secret_key, person),
        "expires_in": identity_tokens.TTL_SECONDS,
        "masked_name": masked,
        "masked_id": identity.mask_id(number),
        "priority": entitled(None, person, day, elderly_age).value,
        "age": age_on(born, day),
    }


def _from_code(code: str, at: datetime) -> tuple[str, str]:
    verified = verifier().verify(code, at)
    if verified.id_number is None:
        raise sfm.SfmUnreadable("本大厅暂时无法读取该二维码，请使用身份证办理")
    return verified.id_number, verified.masked_name


def _from_card(card: dict[str, Any], day: date) -> tuple[str, str]:
    """The card's ID number, once its check digit and the birth date and sex read beside it agree."""
    number = identity.validate(card["id_number"], day)
    if not number.isascii():  # `\d` also matches other scripts' digits: one person, one hash
        raise InvalidIdNumber("身份证号码应为18位，最后一位可以是数字或X")
    if "birth_date" in card and _date(card["birth_date"]) != identity.birth_date(number):
        raise IdCardMismatch("身份证上的出生日期与号码不符，请重新放置身份证")
    if "sex" in card and SEXES[card["sex"]] != identity.sex(number):
        raise IdCardMismatch("身份证上的性别与号码不符，请重新放置身份证")
    return number, identity.mask_name(card["name"])


def _date(text: str) -> date | None:
    digits = text.replace("-", "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
