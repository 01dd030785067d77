"""A hall profile for the simulated day: opening hours, arrivals and service times per bundle, windows.

The file is YAML (see assets/profiles/city_hall.yaml for every field with its meaning). Errors name
the file and the field at fault, e.g. `bundles.real-estate.service.mean_min: must be > 0`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..catalogue import DEFAULT_ROOT, CatalogueError, load_catalogue

Share = Annotated[float, Field(ge=0, le=1)]
Minutes = Annotated[float, Field(ge=0, le=240)]


class ProfileError(ValueError):
    """A profile that cannot be simulated; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HallPart(_Frozen):
    name: str = Field(min_length=1)
    opens: time
    closes: time
    recall_limit: int = Field(default=3, ge=0, le=10)
    requeue_places: int = Field(default=3, ge=0, le=50)
    recall_interval_min: Minutes = 1.0
    walk_min: Minutes = 0.5


class Visitors(_Frozen):
    no_show_share: Share = 0.05
    late_share: Share = 0.1
    return_share: Share = 0.3
    return_after_min: tuple[Minutes, Minutes] = (10.0, 40.0)


class Service(_Frozen):
    mean_min: float = Field(gt=0, le=240)
    cv: float = Field(default=0.6, ge=0, le=3)
    dist: Literal["lognormal", "exponential", "fixed"] = "lognormal"


class BundleLoad(_Frozen):
    daily: float = Field(ge=0, le=100_000)
    shape: str | None = None
    by_hour: dict[int, Annotated[float, Field(ge=0)]] | None = None
    service: Service
    priority_share: Share = 0.0
    appointment_share: Share = 0.0


class Rank(_Frozen):
    code: str
    rank: int = Field(default=1, ge=1, le=9)


class WindowGroup(_Frozen):
    count: int = Field(default=1, ge=1, le=500)
    name: str = Field(min_length=1)
    kind: str = "专窗"
    bundles: tuple[Rank, ...] = Field(min_length=1)


class _File(_Frozen):
    source: str = Field(min_length=1)
    hall: HallPart
    visitors: Visitors = Visitors()
    shapes: dict[str, dict[int, Annotated[float, Field(ge=0)]]] = {}
    bundles: dict[str, BundleLoad] = Field(min_length=1)
    windows: tuple[WindowGroup, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """One window of an allocation: its number, name and bundle ranks (1 = primary)."""

    number: int
    name: str
    ranks: Mapping[str, int]


Allocation = tuple[WindowPlan, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """A checked profile: minutes are counted from the hall's local midnight."""

    name: str
    source: str
    opens_min: float
    closes_min: float
    recall_limit: int
    requeue_places: int
    recall_interval_min: float
    walk_min: float
    visitors: Visitors
    bundles: Mapping[str, BundleLoad]
    hourly: Mapping[str, Mapping[int, float]]  # bundle -> hour -> expected arrivals in that hour
    expected_min: Mapping[str, float]  # the catalogue's service_minutes, the wait estimate's prior
    bundle_names: Mapping[str, str]
    allocation: Allocation


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "top level"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ProfileError(f"{path}: cannot be read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise ProfileError(f"{path}: YAML syntax error: {e}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: top level: expected a mapping")
    return data


def _hourly(path: Path, code: str, load: BundleLoad, shapes: Mapping[str, Mapping[int, float]],
            opens: float, closes: float) -> dict[int, float]:
    if (load.shape is None) == (load.by_hour is None):
        raise ProfileError(f"{path}: bundles.{code}: give either shape or by_hour")
    where = f"bundles.{code}.by_hour"
    if load.shape is not None:
        if load.shape not in shapes:
            raise ProfileError(f"{path}: bundles.{code}.shape: no shape named {load.shape!r} in shapes")
        weights, where = shapes[load.shape], f"shapes.{load.shape}"
    else:
        weights = load.by_hour or {}
    for hour in weights:
        if not (opens // 60 <= hour < -(-closes // 60)):
            raise ProfileError(f"{path}: {where}.{hour}: hour outside the opening hours")
    total = sum(weights.values())
    if total <= 0 and load.daily > 0:
        raise ProfileError(f"{path}: {where}: the weights add up to 0")
    # A shape is a relative weighting; by_hour with `daily` is scaled to `daily` too.
    return {h: load.daily * w / total for h, w in sorted(weights.items()) if w > 0} if total else {}


def _allocation(path: Path, groups: tuple[WindowGroup, ...], known: set[str]) -> Allocation:
    plans: list[WindowPlan] = []
    for i, group in enumerate(groups):
        ranks: dict[str, int] = {}
        for j, r in enumerate(group.bundles):
            if r.code not in known:
                raise ProfileError(f"{path}: windows.{i}.bundles.{j}.code: unknown bundle {r.code!r}")
            if r.code in ranks:
                raise ProfileError(f"{path}: windows.{i}.bundles.{j}.code: {r.code} given twice")
            ranks[r.code] = r.rank
        for k in range(group.count):
            name = group.name if group.count == 1 else f"{group.name}{k + 1}号"
            plans.append(WindowPlan(number=len(plans) + 1, name=name, ranks=dict(ranks)))
    return tuple(plans)


def load_profile(path: Path, catalogue_root: Path = DEFAULT_ROOT) -> Profile:
    """Read, validate and cross-check a profile against the catalogue's bundles."""
    raw = _read(path)
    try:
        spec = _File.model_validate(raw)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        raise ProfileError(f"{path}: {_field(err['loc'])}: {err['msg']}") from None
    try:
        catalogue = load_catalogue(catalogue_root)
    except CatalogueError as e:
        raise ProfileError(f"catalogue: {e}") from None
    expected = {b.code: float(b.service_minutes) for b in catalogue.bundles}
    names = {b.code: b.name for b in catalogue.bundles}
    opens, closes = _minutes(spec.hall.opens), _minutes(spec.hall.closes)
    if closes <= opens:
        raise ProfileError(f"{path}: hall.closes: must be after hall.opens")
    lo, hi = spec.visitors.return_after_min
    if lo > hi:
        raise ProfileError(f"{path}: visitors.return_after_min: the first must not exceed the second")
    hourly: dict[str, dict[int, float]] = {}
    for code, load in spec.bundles.items():
        if code not in expected:
            raise ProfileError(f"{path}: bundles.{code}: not a bundle of the catalogue")
        hourly[code] = _hourly(path, code, load, spec.shapes, opens, closes)
    allocation = _allocation(path, spec.windows, set(expected))
    served = {code for w in allocation for code in w.ranks}
    for code, load in spec.bundles.items():
        if load.daily > 0 and code not in served:
            raise ProfileError(f"{path}: bundles.{code}: no window serves it")
    return Profile(
        name=spec.hall.name, source=spec.source, opens_min=opens, closes_min=closes,
        recall_limit=spec.hall.recall_limit, requeue_places=spec.hall.requeue_places,
        recall_interval_min=spec.hall.recall_interval_min, walk_min=spec.hall.walk_min,
        visitors=spec.visitors, bundles=dict(spec.bundles), hourly=hourly,
        expected_min=expected, bundle_names=names, allocation=allocation,
    )
