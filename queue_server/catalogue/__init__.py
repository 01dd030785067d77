"""The 一件事 catalogue and the demo hall: YAML files in, validated frozen models out.

`files` reads the YAML, `models` and `hall` are what it validates into, `validation` names the
entry at fault, `checks` cross-checks the files; everything public is importable from here.
"""

from __future__ import annotations

from pathlib import Path

from .checks import check_catalogue, check_hall
from .files import DEFAULT_ROOT, CatalogueError, read_mapping
from .hall import BundleRank, DemoHall, HallSpec, WindowKind, WindowSpec
from .models import (
    IDENTITY_TYPES,
    Applicant,
    Bundle,
    Catalogue,
    Code,
    Count,
    Days,
    Department,
    DepartmentsFile,
    FieldKey,
    FieldType,
    Flag,
    FormField,
    IdentityField,
    Material,
    MaterialForm,
    Matter,
    MattersFile,
    Text,
)
from .validation import validate

__all__ = [
    "DEFAULT_ROOT",
    "IDENTITY_TYPES",
    "Applicant",
    "Bundle",
    "BundleRank",
    "Catalogue",
    "CatalogueError",
    "Code",
    "Count",
    "Days",
    "DemoHall",
    "Department",
    "FieldKey",
    "FieldType",
    "Flag",
    "FormField",
    "HallSpec",
    "IdentityField",
    "Material",
    "MaterialForm",
    "Matter",
    "Text",
    "WindowKind",
    "WindowSpec",
    "load_catalogue",
    "load_demo_hall",
]


def load_catalogue(root: Path = DEFAULT_ROOT) -> Catalogue:
    """Read and cross-check departments.yaml, matters.yaml and bundles/*.yaml under `root`."""
    dep_path, matter_path = root / "departments.yaml", root / "matters.yaml"
    departments = validate(dep_path, read_mapping(dep_path), DepartmentsFile, []).departments
    matters = validate(matter_path, read_mapping(matter_path), MattersFile, []).matters
    paths = sorted((root / "bundles").glob("*.yaml"))
    if not paths:
        raise CatalogueError(root / "bundles", "directory", "no bundle files (*.yaml)")
    bundles = []
    for path in paths:
        raw = read_mapping(path)
        code = raw.get("code")
        entry = [f"bundle {code}" if isinstance(code, str) else "bundle"]
        bundles.append((path, validate(path, raw, Bundle, entry)))
    check_catalogue((dep_path, matter_path), departments, matters, bundles)
    return Catalogue(departments=departments, matters=matters, bundles=tuple(b for _, b in bundles))


def load_demo_hall(catalogue: Catalogue, path: Path = DEFAULT_ROOT / "demo_hall.yaml") -> DemoHall:
    """Read the demo hall; `bundles: all` becomes every catalogue bundle at rank 1."""
    raw = read_mapping(path)
    hall = validate(path, raw, DemoHall, [], context={"bundle_codes": catalogue.bundle_codes})
    check_hall(path, hall, catalogue)
    return hall
