"""Request and response schemas: they validate input and generate /api/v1/openapi.json."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp

CODE = Regexp(r"^[a-z][a-z0-9-]{0,39}$", error="编码只能包含小写字母、数字和连字符")


class HallPath(Schema):
    hall = String(required=True, validate=[Length(1, 40)])


class WaitRangeOut(Schema):
    lo = Integer(required=True)
    hi = Integer(required=True)


class CalibrationOut(Schema):
    days = Integer(required=True)
    samples = Integer(required=True)
    ranged = Integer(required=True)
    within_share = Float(allow_none=True, metadata={"description": "share called by the end of their range"})
    median_error_min = Float(allow_none=True)
    mode = String(required=True, metadata={"description": "calibrating | range | widened | withheld"})


class BundleOut(Schema):
    code = String(required=True)
    name = String(required=True)
    prefix = String(required=True)
    waiting = Integer(required=True)
    wait_min = Integer(required=True, allow_none=True)
    open_windows = Integer(required=True)
    service_min = Float()
    wait_range = Nested(WaitRangeOut, allow_none=True)
    issuing = Boolean(metadata={"description": "false: a number taken now could not be served before "
                                               "closing time (the hall's closing-time guard)"})


class BundleList(Schema):
    hall = String(required=True)
    bundles = List(Nested(BundleOut), required=True)
    calibration = Nested(CalibrationOut, metadata={
        "description": "how the hall's quoted waits held over the last days"})


class CatalogueItem(Schema):
    code = String(required=True)
    name = String(required=True)
    prefix = String(required=True)


class CatalogueOut(Schema):
    bundles = List(Nested(CatalogueItem), required=True)


class MatterOut(Schema):
    code = String(required=True)
    name = String(required=True)
    department = String(required=True)
    legal_days = Integer(allow_none=True)
    promised_days = Integer(allow_none=True)
    fee = String(allow_none=True)


class MaterialOut(Schema):
    code = String(required=True)
    name = String(required=True)
    form = String(required=True)
    copies = Integer(required=True)
    matters = List(String(), required=True)
    exempt = Boolean(required=True)
    exempt_note = String(allow_none=True)
    tolerated = Boolean(required=True)
    promise_allowed = Boolean(required=True)
    note = String(allow_none=True)


class FieldOut(Schema):
    key = String(required=True)
    label = String(required=True)
    type = String(required=True)
    required = Boolean(required=True)
    identity = String(allow_none=True)
    options = List(String(), allow_none=True)


class NoticeOut(Schema):
    """一次告知: everything a citizen needs to know before coming."""

    code = String(required=True)
    name = String(required=True)
    prefix = String(required=True)
    applicant = String(required=True)
    summary = String(allow_none=True)
    lead_department = String(required=True)
    matters = List(Nested(MatterOut), required=True)
    materials = List(Nested(MaterialOut), required=True)
    conditions = List(String(), required=True)
    fees = String(allow_none=True)
    legal_days = Integer(allow_none=True)
    promised_days = Integer(allow_none=True)
    form = List(Nested(FieldOut), required=True)
    identity_fillable_share = Float(required=True)
    visits_before = Integer(allow_none=True)
    visits_after = Integer(allow_none=True)
    materials_before = Integer(allow_none=True)


class TakeTicketIn(Schema):
    bundle = String(required=True, validate=[CODE])
    identity_token = String(load_default=None, allow_none=True, validate=[Length(1, 500)])
    priority = String(load_default=None, allow_none=True,
                      validate=[OneOf(["none", "elderly", "disabled", "appointment"])])


class WindowRefOut(Schema):
    id = Integer(required=True)
    number = Integer(required=True)
    name = String(required=True)


class TicketOut(Schema):
    id = Integer(required=True)
    number = String(required=True)
    bundle = String(required=True)
    bundle_name = String()
    priority = String(required=True)
    status = String(required=True)
    people_ahead = Integer(required=True, allow_none=True)
    wait_min = Integer(required=True, allow_none=True)
    track_token = String(required=True)
    taken_at = String()
    window = Nested(WindowRefOut, allow_none=True)
    recall_count = Integer()
    wait_range = Nested(WaitRangeOut, allow_none=True, metadata={
        "description": "the wait quoted as a range (its p50–p90 from the hall's recent quote errors); "
                       "null when no window serves it or the hall's calibration is too poor to promise one"})


class TicketItem(TicketOut):
    """TicketOut nested in another schema (apispec names each class once)."""


class TicketEnvelope(Schema):
    ticket = Nested(TicketItem, required=True)


class TrackOut(Schema):
    hall = String(required=True)
    hall_name = String(required=True)
    ticket = Nested(TicketItem, required=True)


class IdempotencyHeader(Schema):
    idempotency_key = String(data_key="Idempotency-Key", load_default=None,
                             validate=[Length(1, 100)])


class TransferIn(Schema):
    bundle = String(load_default=None, allow_none=True, validate=[CODE])
    window = Integer(load_default=None, allow_none=True, validate=[Range(1, 9999)])


class EmptyIn(Schema):
    pass


class WindowBundleOut(Schema):
    code = String(required=True)
    name = String(required=True)
    rank = Integer(required=True)


class WindowOut(Schema):
    id = Integer(required=True)
    number = Integer(required=True)
    name = String(required=True)
    kind = String(required=True)
    open = Boolean(required=True)
    paused = Boolean(required=True)
    bundles = List(Nested(WindowBundleOut), required=True)
    current = Dict(allow_none=True)


class WindowItem(WindowOut):
    """WindowOut nested in another schema (apispec names each class once)."""


class WindowList(Schema):
    hall = String(required=True)
    windows = List(Nested(WindowItem), required=True)


class AllocationItem(Schema):
    code = String(required=True, validate=[CODE])
    rank = Integer(required=True, validate=[Range(1, 9)])


class AllocationIn(Schema):
    bundles = List(Nested(AllocationItem), required=True, validate=[Length(0, 50)])


class OpenIn(Schema):
    open = Boolean(required=True)


class LoginIn(Schema):
    username = String(required=True, validate=[Length(1, 60)])
    password = String(required=True, validate=[Length(1, 200)])


class LoginOut(Schema):
    token = String(required=True)
    role = String(required=True)
    name = String(required=True)
    username = String(required=True)
    hall = String(allow_none=True)
    window = Nested(WindowRefOut, allow_none=True)


class StaffIn(Schema):
    username = String(required=True, validate=[Regexp(r"^[A-Za-z0-9_.-]{2,60}$")])
    name = String(required=True, validate=[Length(1, 60)])
    password = String(required=True, validate=[Length(8, 200)])
    role = String(required=True, validate=[OneOf(["clerk", "manager", "admin", "assistant"])])
    window = Integer(load_default=None, allow_none=True, validate=[Range(1, 9999)])


class StaffPatch(Schema):
    name = String(validate=[Length(1, 60)])
    password = String(validate=[Length(8, 200)])
    role = String(validate=[OneOf(["clerk", "manager", "admin", "assistant"])])
    window = Integer(allow_none=True, validate=[Range(1, 9999)])
    active = Boolean()


class StaffOut(Schema):
    id = Integer(required=True)
    username = String(required=True)
    name = String(required=True)
    role = String(required=True)
    window = Integer(allow_none=True)
    active = Boolean(required=True)


class StaffItem(StaffOut):
    """StaffOut nested in another schema (apispec names each class once)."""


class StaffList(Schema):
    staff = List(Nested(StaffItem), required=True)


class DeviceIn(Schema):
    kind = String(required=True, validate=[OneOf(["kiosk", "display", "rating_pad"])])
    name = String(required=True, validate=[Length(1, 100)])


class DeviceOut(Schema):
    id = Integer(required=True)
    kind = String(required=True)
    name = String(required=True)
    created_at = String(required=True)
    revoked_at = String(allow_none=True)
    last_seen_at = String(allow_none=True)
    token = String()  # only when just issued


class DeviceItem(DeviceOut):
    """DeviceOut nested in another schema (apispec names each class once)."""


class DeviceList(Schema):
    devices = List(Nested(DeviceItem), required=True)


class AuditOut(Schema):
    id = Integer(required=True)
    at = String(required=True)
    actor = String(required=True)
    action = String(required=True)
    target = String(allow_none=True)
    detail = Dict(allow_none=True)


class AuditList(Schema):
    entries = List(Nested(AuditOut), required=True)


class AuditQuery(Schema):
    limit = Integer(load_default=100, validate=[Range(1, 1000)])


class ScreenOut(Schema):
    """A screen's state (the same as the Socket.IO snapshot)."""

    hall = Dict(required=True)
    at = String(required=True)
    bundles = List(Dict())
    windows = List(Dict())
    recent_calls = List(Dict())
    window = Dict()
    next = List(Dict())
    waiting_total = Integer()
    served_today = Integer()


class ScreenQuery(Schema):
    count = Integer(load_default=5, validate=[Range(1, 50)])


class HealthOut(Schema):
    status = String(required=True)
    version = String(required=True)
    database = String(required=True)
