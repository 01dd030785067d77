"""The demo hall: its opening hours and time zone, its windows and the bundles each serves, by rank."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .models import Code, Frozen, Text

WindowKind = Literal["综合受理", "专窗", "帮办代办", "绿色通道", "办不成事反映"]


class BundleRank(Frozen):
    code: Code
    rank: Annotated[int, Field(strict=True, ge=1)]


class WindowSpec(Frozen):
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


class HallSpec(Frozen):
    code: Code
    name: Text
    timezone: Text
    opens: time
    closes: time
    notice: Text
    # the closing-time guard (settings POLICY "closing_guard"); the demo hall runs at any hour
    closing_guard: bool = True

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


class DemoHall(Frozen):
    hall: HallSpec
    windows: tuple[WindowSpec, ...] = Field(min_length=1)

    def window(self, number: int) -> WindowSpec:
        for window in self.windows:
            if window.number == number:
                return window
        raise KeyError(f"unknown window {number}")
