"""Cross-checks no single file can make: codes unique, every reference known, forms that can be filled."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .files import CatalogueError
from .hall import DemoHall
from .models import IDENTITY_TYPES, Bundle, Catalogue, Department, Matter


def first_duplicate(codes: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            return code
        seen.add(code)
    return None


def _bundle_problems(
    bundle: Bundle, departments: set[str], matters: set[str]
) -> Iterator[tuple[str, str]]:
    """(entry, message) for each reference in `bundle` that does not hold."""
    here = f"bundle {bundle.code}"
    if bundle.lead_department not in departments:
        yield here, f"lead_department {bundle.lead_department!r} is not a known department"
    for code in bundle.matters:
        if code not in matters:
            yield here, f"matter {code!r} is not in matters.yaml"
    if twice := first_duplicate(bundle.matters):
        yield here, f"matter {twice!r} is listed twice"
    if twice := first_duplicate(m.code for m in bundle.materials):
        yield f"{here}, material {twice}", "duplicate material code"
    for material in bundle.materials:
        entry = f"{here}, material {material.code}"
        if not material.matters:
            yield entry, "material without a matter: its matters list is empty"
        for code in material.matters:
            if code not in bundle.matters:
                yield entry, f"matter {code!r} is not one of the bundle's matters"
    if twice := first_duplicate(f.key for f in bundle.form):
        yield f"{here}, form field {twice}", "duplicate form key"
    for field in bundle.form:
        entry = f"{here}, form field {field.key}"
        if field.type == "select" and not field.options:
            yield entry, "select field without options"
        if field.type != "select" and field.options is not None:
            yield entry, f"options given for a {field.type} field"
        if field.identity is not None and field.type not in IDENTITY_TYPES[field.identity]:
            yield entry, f"identity {field.identity} cannot fill a {field.type} field"


def check_catalogue(
    files: tuple[Path, Path],
    departments: Sequence[Department],
    matters: Sequence[Matter],
    bundles: Sequence[tuple[Path, Bundle]],
) -> None:
    dep_path, matter_path = files
    if twice := first_duplicate(d.code for d in departments):
        raise CatalogueError(dep_path, f"department {twice}", "duplicate department code")
    if twice := first_duplicate(m.code for m in matters):
        raise CatalogueError(matter_path, f"matter {twice}", "duplicate matter code")
    known_departments = {d.code for d in departments}
    for matter in matters:
        if matter.department not in known_departments:
            message = f"department {matter.department!r} is not a known department"
            raise CatalogueError(matter_path, f"matter {matter.code}", message)
    matter_codes = {m.code for m in matters}
    taken: dict[tuple[str, str], tuple[Path, Bundle]] = {}
    for path, bundle in bundles:
        for key in (("code", bundle.code), ("prefix", bundle.prefix)):
            if key in taken:
                other_path, other = taken[key]
                message = f"{key[0]} {key[1]!r} is already used by bundle {other.code}"
                message += f" ({other_path.name})"
                raise CatalogueError(path, f"bundle {bundle.code}", message)
            taken[key] = (path, bundle)
        for entry, message in _bundle_problems(bundle, known_departments, matter_codes):
            raise CatalogueError(path, entry, message)


def check_hall(path: Path, hall: DemoHall, catalogue: Catalogue) -> None:
    if twice := first_duplicate(str(w.number) for w in hall.windows):
        raise CatalogueError(path, f"window {twice}", "duplicate window number")
    if twice := first_duplicate(w.name for w in hall.windows):
        raise CatalogueError(path, f"window {twice}", "duplicate window name")
    known = set(catalogue.bundle_codes)
    for window in hall.windows:
        entry = f"window {window.number}"
        if twice := first_duplicate(b.code for b in window.bundles):
            raise CatalogueError(path, entry, f"bundle {twice!r} is allocated twice")
        for allocation in window.bundles:
            if allocation.code not in known:
                message = f"bundle {allocation.code!r} is not in the catalogue"
                raise CatalogueError(path, entry, message)
