"""Public reads: bundles with waits, the one-time notice, windows, screens, health."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import select, text

from ..auth import auth, check_hall, current
from ..models import Bundle, Window
from ..queue.errors import NotFound
from ..runtime import runtime
from ..services import quotes
from ..services.common import bundle_by_code, hall_by_code
from ..services.snapshot import hall_snapshot, manager_snapshot, window_snapshot
from ..services.waits import hall_waits
from ..services.windows import list_windows
from .common import now, responses
from .schemas import BundleList, CatalogueOut, HealthOut, NoticeOut, ScreenOut, ScreenQuery, WindowList

bp = APIBlueprint("halls", __name__, url_prefix="/api/v1", tag="Halls")


@bp.get("/halls/<hall>/bundles")
@bp.output(BundleList)
@bp.doc(summary="Bundles with waiting count, wait estimate and open windows", responses=responses(404, 429))
def bundles(hall: str) -> dict[str, Any]:
    with runtime().database.read() as db:
        h = hall_by_code(db, hall)
        at = now()
        return {"hall": h.code, "bundles": [b.to_json() for b in hall_waits(db, h, at)],
                "calibration": quotes.calibration(db, h.id, at).to_json()}


def notice(bundle: Bundle) -> dict[str, Any]:
    """一次告知 of a bundle."""
    fields = bundle.form_fields
    fillable = sum(1 for f in fields if f.identity)
    return {
        "code": bundle.code, "name": bundle.name, "prefix": bundle.prefix,
        "applicant": bundle.applicant, "summary": bundle.summary,
        "lead_department": bundle.lead_department.name,
        "matters": [{"code": m.matter.code, "name": m.matter.name,
                     "department": m.matter.department.name, "legal_days": m.matter.legal_days,
                     "promised_days": m.matter.promised_days, "fee": m.matter.fee}
                    for m in bundle.matters],
        "materials": [{"code": m.code, "name": m.name, "form": m.form, "copies": m.copies,
                       "matters": [mm.matter.code for mm in m.matters], "exempt": m.exempt,
                       "exempt_note": m.exempt_note, "tolerated": m.tolerated,
                       "promise_allowed": m.promise_allowed, "note": m.note}
                      for m in bundle.materials],
        "conditions": [c for c in (bundle.conditions or "").splitlines() if c],
        "fees": bundle.fees, "legal_days": bundle.legal_days, "promised_days": bundle.promised_days,
        "form": [{"key": f.key, "label": f.label, "type": f.type, "required": f.required,
                  "identity": f.identity, "options": f.options.splitlines() if f.options else None}
                 for f in fields],
        "identity_fillable_share": round(fillable / len(fields), 3) if fields else 0.0,
        "visits_before": bundle.visits_before, "visits_after": bundle.visits_after,
        "materials_before": bundle.materials_before,
    }


@bp.get("/bundles")
@bp.output(CatalogueOut)
@bp.doc(summary="The whole catalogue of bundles (code, name, prefix), served in a hall or not",
        responses=responses(429))
def catalogue() -> dict[str, Any]:
    with runtime().database.read() as db:
        return {"bundles": [{"code": b.code, "name": b.name, "prefix": b.prefix}
                            for b in db.scalars(select(Bundle).order_by(Bundle.prefix))]}


@bp.get("/bundles/<code>")
@bp.output(NoticeOut)
@bp.doc(summary="The one-time notice (一次告知) of a bundle", responses=responses(404, 429))
def bundle_notice(code: str) -> dict[str, Any]:
    with runtime().database.read() as db:
        return notice(bundle_by_code(db, code))


@bp.get("/halls/<hall>/windows")
@bp.output(WindowList)
@bp.doc(summary="The hall's windows with their bundles", responses=responses(404, 429))
def windows(hall: str) -> dict[str, Any]:
    return {"hall": hall, "windows": [w.to_json() for w in list_windows(runtime().database, hall)]}


@bp.get("/halls/<hall>/screen")
@bp.output(ScreenOut)
@bp.doc(summary="What the hall display shows (the Socket.IO snapshot), for polling clients",
        responses=responses(404, 429))
def hall_screen(hall: str) -> dict[str, Any]:
    with runtime().database.read() as db:
        return hall_snapshot(db, hall_by_code(db, hall), now())


@bp.get("/windows/<int(max=2147483647):window>/screen")
@bp.input(ScreenQuery, location="query", arg_name="query")
@bp.output(ScreenOut)
@bp.doc(summary="What a window's display shows: its state, current number and the next few (`count`)",
        responses=responses(404, 429))
def window_screen(window: int, query: dict[str, Any]) -> dict[str, Any]:
    with runtime().database.read() as db:
        w = db.get(Window, window)
        if w is None:
            raise NotFound(f"没有编号为 {window} 的窗口")
        return window_snapshot(db, w.hall, w, now(), count=query["count"])


@bp.get("/halls/<hall>/live")
@bp.auth_required(auth, roles=["manager"])
@bp.output(ScreenOut)
@bp.doc(summary="The hall live for the manager (longest wait per bundle, each window's state)",
        responses=responses(401, 403, 404, 429))
def live(hall: str) -> dict[str, Any]:
    with runtime().database.read() as db:
        h = hall_by_code(db, hall)
        check_hall(current(), h.id)
        return manager_snapshot(db, h, now())


@bp.get("/health")
@bp.output(HealthOut)
@bp.doc(summary="Liveness, version (screens reload when it changes) and database reachability",
        responses=responses(429))
def health() -> dict[str, Any]:
    rt = runtime()
    with rt.database.read() as db:
        db.execute(text("select 1"))
        db.scalar(select(Window.id).limit(1))
    return {"status": "ok", "version": rt.version, "database": "ok"}
