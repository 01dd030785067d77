"""Pydantic validation of one file's data, its first fault told as a catalogue entry and field path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .files import CatalogueError

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


def validate(
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
