"""The 一件事 catalogue and the demo hall: YAML files in, validated frozen models out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "assets" / "catalogue"
_PROJECT_ROOT = DEFAULT_ROOT.parent.parent

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Days = Annotated[int, Field(strict=True, ge=0)]  # working days; 0 = on the spot
Count = Annotated[int, Field(strict=True, ge=0)]
Flag = Annotated[bool, Field(strict=True)]

Applicant = Literal["citizen", "enterprise"]
MaterialForm = Literal["original", "copy", "electronic"]
FieldType = Literal[
    "text", "date", "select", "phone", "id_number", "address", "number", "bank_card", "credit_code"
]
IdentityField = Literal["name", "id_number", "sex", "birth_date", "address", "nation"]
WindowKind = Literal["综合受理", "专窗", "帮办代办", "绿色通道", "办不成事反映"]

# The form field types an identity value (ID card face / 苏服码) may fill.
IDENTITY_TYPES: dict[str, frozenset[str]] = {
    "name": frozenset({"text"}),
    "id_number": frozenset({"id_number"}),
    "sex": frozenset({"select", "text"}),
    "birth_date": frozenset({"date"}),
    "address": frozenset({"address", "text"}),
    "nation": frozenset({"select", "text"}),
}


class CatalogueError(ValueError):
    """A catalogue or hall file that cannot be used; names the file and the entry at fault."""

    def __init__(self, file: Path, entry: str, message: str) -> None:
        self.file = file
        self.entry = entry
        self.message = message
        super().__init__(f"{_shown(file)}: {entry}: {message}")


def _shown(file: Path) -> str:
    try:
        return file.resolve().relative_to(_PROJECT_ROOT).as_posix()
    except ValueError:
        return str(file)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Frozen):
    code: Code
    name: Text


def _check_days(legal: int | None, promised: int | None) -> None:
    if legal is not None and promised is not None and promised > legal:
        raise ValueError(f"promised_days {promised} exceeds legal_days {legal}")


class Matter(_Frozen):
    code: Code
    name: Text
    department: Code
    legal_days: Days | None
    promised_days: Days | None
    fee: Text | None
    verified: Flag
    note: Text | None

    @model_validator(mode="after")
    def _days(self) -> Matter:
        _check_days(self.legal_days, self.promised_days)
        return self


class Material(_Frozen):
    code: Code
    name: Text
    form: MaterialForm
    copies: Count
    matters: tuple[Code, ...]
    exempt: Flag
    exempt_note: Text | None
    tolerated: Flag
    promise_allowed: Flag
    note: Text | None

    @model_validator(mode="after")
    def _exempt_note(self) -> Material:
        # 免提交 must tell the citizen why nothing is asked for (S0).
        if self.exempt and self.exempt_note is None:
            raise ValueError("an exempt material needs an exempt_note")
        if not self.exempt and self.exempt_note is not None:
            raise ValueError("exempt_note given but exempt is false")
        return self


class FormField(_Frozen):
    key: FieldKey
    label: Text
    type: FieldType
    required: Flag
    identity: IdentityField | None
    options: tuple[Text, ...] | None


class Bundle(_Frozen):
    code: Code
    name: Text
    prefix: str
    applicant: Applicant
    lead_department: Code
    summary: Text
    matters: tuple[Code, ...] = Field(min_length=1)
    conditions: tuple[Text, ...]
    materials: tuple[Material, ...]
    form: tuple[FormField, ...]
    legal_days: Days | None
    promised_days: Days | None
    fees: Text | None
    service_minutes: Annotated[int, Field(strict=True, ge=1, le=240)]
    visits_before: Count | None
    visits_after: Count | None
    materials_before: Count | None
    verified: Flag
    note: Text | None
    sources: tuple[Text, ...]

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # Ticket numbers are prefix + 3 digits; I and O read as 1 and 0 on a screen.
        if len(value) != 1 or not ("A" <= value <= "Z") or value in "IO":
            raise ValueError(f"prefix {value!r} must be one letter A-Z other than I and O")
        return value

    @model_validator(mode="after")
    def _days(self) -> Bundle:
        _check_days(self.legal_days, self.promised_days)
        return self

    @property
    def identity_fillable_share(self) -> float:
        """Share of the merged form's fields filled from the applicant's identity."""
        if not self.form:
            return 0.0
        return sum(f.identity is not None for f in self.form) / len(self.form)

    @property
    def material_count(self) -> int:
        return len(self.materials)

    @property
    def exempt_count(self) -> int:
        return sum(m.exempt for m in self.materials)

    @property
    def identity_fields(self) -> dict[str, IdentityField]:
        """Form key -> the identity value that fills it."""
        return {f.key: f.identity for f in self.form if f.identity is not None}


class Catalogue(_Frozen):
    departments: tuple[Department, ...]
    matters: tuple[Matter, ...]
    bundles: tuple[Bundle, ...]

    @property
    def bundle_codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.bundles)

    def department(self, code: str) -> Department:
        return _find(self.departments, code, "department")

    def matter(self, code: str) -> Matter:
        return _find(self.matters, code, "matter")

    def bundle(self, code: str) -> Bundle:
        return _find(self.bundles, code, "bundle")

    def matters_of(self, bundle: Bundle) -> tuple[Matter, ...]:
        return tuple(self.matter(code) for code in bundle.matters)


_Coded = TypeVar("_Coded", Department, Matter, Bundle)


def _find(items: Iterable[_Coded], code: str, what: str) -> _Coded:
    for item in items:
        if item.code == code:
            return item
    raise KeyError(f"unknown {what} {code!r}")


class BundleRank(_Frozen):
    code: Code
    rank: Annotated[int, Field(strict=True, ge=1)]


class WindowSpec(_Frozen):
    number: Annotated[int, Field(strict=True, ge=1)]
    name: Text
    kind: WindowKind
    bundles: tuple[BundleRank, ...] = Field(min_length=1)

    @field_validator("bundles", mode="before")
    @classmethod
    def _expand_all(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        if value != "all":
            raise ValueError(f"bundles must be 'all' or a list of {{code, rank}}, not {value!r}")
        codes = (info.context or {}).get("bundle_codes")
        if codes is None:
            raise ValueError("'all' needs the catalogue's bundle codes as validation context")
        return tuple({"code": code, "rank": 1} for code in codes)

    @property
    def ranks(self) -> dict[str, int]:
        """Bundle code -> rank, the shape the queue rules take."""
        return {b.code: b.rank for b in self.bundles}


class HallSpec(_Frozen):
    code: Code
    name: Text
    timezone: Text
    opens: time
    closes: time
    notice: Text

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> time:
        # Unquoted 17:00 is the YAML 1.1 integer 1020; insist on a quoted "HH:MM".
        if not isinstance(value, str):
            raise ValueError(f'write the time as a quoted "HH:MM", not {value!r}')
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise ValueError(f'{value!r} is not a "HH:MM" time') from None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _hours(self) -> HallSpec:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


class DemoHall(_Frozen):
    hall: HallSpec
    windows: tuple[WindowSpec, ...] = Field(min_length=1)

    def window(self, number: int) -> WindowSpec:
        for window in self.windows:
            if window.number == number:
                return window
        raise KeyError(f"unknown window {number}")


class _DepartmentsFile(_Frozen):
    departments: tuple[Department, ...]


class _MattersFile(_Frozen):
    matters: tuple[Matter, ...]


# --- reading -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader refusing a key given twice in one mapping (PyYAML keeps the last silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable; construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r}", key_node.start_mark,
            )
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(path, "file", "not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(path, "file", f"cannot be read: {exc}") from None
    loader = _UniqueKeyLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        entry = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        raise CatalogueError(path, entry, f"YAML syntax error: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(path, "YAML", f"YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CatalogueError(path, "top level", "expected a mapping of keys to values")
    return data


_SINGULAR = {
    "departments": "department", "matters": "matter", "materials": "material",
    "form": "form field", "windows": "window", "bundles": "bundle",
}
_ID_KEYS = ("code", "key", "number")
_SECTIONS = frozenset({"hall"})


def _child(node: Any, seg: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(seg)
    if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
        return node[seg]
    return None


def _locate(raw: Any, loc: Sequence[int | str], entry: list[str]) -> tuple[str, str]:
    """Turn a pydantic error location into ("bundle x, material y", "field.path")."""
    parts, fields, node, rest = list(entry), [], raw, list(loc)
    while rest:
        seg = rest.pop(0)
        node = _child(node, seg)
        item = _child(node, rest[0]) if rest and isinstance(rest[0], int) else None
        if seg in _SECTIONS and isinstance(node, dict):
            parts.append(str(seg))
            continue
        if isinstance(seg, str) and seg in _SINGULAR and isinstance(item, dict):
            index = int(rest.pop(0))
            ident = next((item[k] for k in _ID_KEYS if k in item), f"#{index + 1}")
            parts.append(f"{_SINGULAR[seg]} {ident}")
            node = item
            continue
        fields.append(f"[{seg}]" if isinstance(seg, int) else f".{seg}")
    return ", ".join(parts) or "top level", "".join(fields).lstrip(".")


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(
    path: Path, raw: dict[str, Any], model: type[_Model], entry: list[str],
    context: dict[str, Any] | None = None,
) -> _Model:
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        where, field = _locate(raw, errors[0]["loc"], entry)
        message = errors[0]["msg"].removeprefix("Value error, ")
        message = f"{field}: {message}" if field else message
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        raise CatalogueError(path, where, message) from None


# --- cross-checks --------------------------------------------------------------------------


def _first_duplicate(codes: Iterable[str]) -> str | None:
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
    if twice := _first_duplicate(bundle.matters):
        yield here, f"matter {twice!r} is listed twice"
    if twice := _first_duplicate(m.code for m in bundle.materials):
        yield f"{here}, material {twice}", "duplicate material code"
    for material in bundle.materials:
        entry = f"{here}, material {material.code}"
        if not material.matters:
            yield entry, "material without a matter: its matters list is empty"
        for code in material.matters:
            if code not in bundle.matters:
                yield entry, f"matter {code!r} is not one of the bundle's matters"
    if twice := _first_duplicate(f.key for f in bundle.form):
        yield f"{here}, form field {twice}", "duplicate form key"
    for field in bundle.form:
        entry = f"{here}, form field {field.key}"
        if field.type == "select" and not field.options:
            yield entry, "select field without options"
        if field.type != "select" and field.options is not None:
            yield entry, f"options given for a {field.type} field"
        if field.identity is not None and field.type not in IDENTITY_TYPES[field.identity]:
            yield entry, f"identity {field.identity} cannot fill a {field.type} field"


def _check_catalogue(
    files: tuple[Path, Path],
    departments: Sequence[Department],
    matters: Sequence[Matter],
    bundles: Sequence[tuple[Path, Bundle]],
) -> None:
    dep_path, matter_path = files
    if twice := _first_duplicate(d.code for d in departments):
        raise CatalogueError(dep_path, f"department {twice}", "duplicate department code")
    if twice := _first_duplicate(m.code for m in matters):
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


def _check_hall(path: Path, hall: DemoHall, catalogue: Catalogue) -> None:
    if twice := _first_duplicate(str(w.number) for w in hall.windows):
        raise CatalogueError(path, f"window {twice}", "duplicate window number")
    if twice := _first_duplicate(w.name for w in hall.windows):
        raise CatalogueError(path, f"window {twice}", "duplicate window name")
    known = set(catalogue.bundle_codes)
    for window in hall.windows:
        entry = f"window {window.number}"
        if twice := _first_duplicate(b.code for b in window.bundles):
            raise CatalogueError(path, entry, f"bundle {twice!r} is allocated twice")
        for allocation in window.bundles:
            if allocation.code not in known:
                message = f"bundle {allocation.code!r} is not in the catalogue"
                raise CatalogueError(path, entry, message)


# --- entry points --------------------------------------------------------------------------


def load_catalogue(root: Path = DEFAULT_ROOT) -> Catalogue:
    """Read and cross-check departments.yaml, matters.yaml and bundles/*.yaml under `root`."""
    dep_path, matter_path = root / "departments.yaml", root / "matters.yaml"
    departments = _validate(dep_path, _read_mapping(dep_path), _DepartmentsFile, []).departments
    matters = _validate(matter_path, _read_mapping(matter_path), _MattersFile, []).matters
    paths = sorted((root / "bundles").glob("*.yaml"))
    if not paths:
        raise CatalogueError(root / "bundles", "directory", "no bundle files (*.yaml)")
    bundles = []
    for path in paths:
        raw = _read_mapping(path)
        code = raw.get("code")
        entry = [f"bundle {code}" if isinstance(code, str) else "bundle"]
        bundles.append((path, _validate(path, raw, Bundle, entry)))
    _check_catalogue((dep_path, matter_path), departments, matters, bundles)
    return Catalogue(departments=departments, matters=matters, bundles=tuple(b for _, b in bundles))


def load_demo_hall(catalogue: Catalogue, path: Path = DEFAULT_ROOT / "demo_hall.yaml") -> DemoHall:
    """Read the demo hall; `bundles: all` becomes every catalogue bundle at rank 1."""
    raw = _read_mapping(path)
    hall = _validate(path, raw, DemoHall, [], context={"bundle_codes": catalogue.bundle_codes})
    _check_hall(path, hall, catalogue)
    return hall
