"""The nearest-rank quantile, shared by the benchmark's latencies and the wait quotes' errors."""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 < q ≤ 1) of non-empty `values`: the smallest value with at least a share q of
    the values at or below it (no interpolation: always one of the values measured)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]
