"""The catalogue's frozen models: departments, matters (事项), materials, form fields, bundles (一件事)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

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

# The form field types an identity value (ID card face / 苏服码) may fill.
IDENTITY_TYPES: dict[str, frozenset[str]] = {
    "name": frozenset({"text"}),
    "id_number": frozenset({"id_number"}),
    "sex": frozenset({"select", "text"}),
    "birth_date": frozenset({"date"}),
    "address": frozenset({"address", "text"}),
    "nation": frozenset({"select", "text"}),
}


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(Frozen):
    code: Code
    name: Text


def _check_days(legal: int | None, promised: int | None) -> None:
    if legal is not None and promised is not None and promised > legal:
        raise ValueError(f"promised_days {promised} exceeds legal_days {legal}")


class Matter(Frozen):
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


class Material(Frozen):
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


class FormField(Frozen):
    key: FieldKey
    label: Text
    type: FieldType
    required: Flag
    identity: IdentityField | None
    options: tuple[Text, ...] | None


class Bundle(Frozen):
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


class Catalogue(Frozen):
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


class DepartmentsFile(Frozen):
    departments: tuple[Department, ...]


class MattersFile(Frozen):
    matters: tuple[Matter, ...]
