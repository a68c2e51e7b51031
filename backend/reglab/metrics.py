"""The per-epoch metrics as a list, read from their one declaration (events.EpochMetrics).

A metric is a field of `EpochMetrics` with `metric(...)` metadata: its annotation says its shape
(`float`, `float | None` where it may not apply, `list[float]` one value per layer). The store's
columns (store/tables.py), its records (store/records.py), the cost of a stored epoch
(jobs/cost.py) and what the page may chart (GET /api/metrics) all come from `METRICS`, so a new
metric is its computation (training/loop.py), its field, a migration and a chart row.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from typing import Any

from reglab.events import EpochMetrics


@dataclass(frozen=True, slots=True)
class Metric:
    """One per-epoch metric: its name (the field, the column, the wire key) and its shape."""

    name: str
    meaning: str
    per_layer: bool  # a list, one number per weight layer (input → output)
    optional: bool  # None where it does not apply (accuracy in regression)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "meaning": self.meaning,
            "per_layer": self.per_layer,
            "optional": self.optional,
        }


def _declared() -> tuple[Metric, ...]:
    hints = typing.get_type_hints(EpochMetrics)
    out = []
    for f in fields(EpochMetrics):
        if "metric" not in f.metadata:
            continue
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else ()
        per_layer = typing.get_origin(hint) is list
        if not per_layer and hint is not float and set(args) != {float, type(None)}:
            raise TypeError(f"metric {f.name} is {hint}: a metric is float, float | None or list")
        out.append(Metric(f.name, f.metadata["metric"], per_layer, type(None) in args))
    return tuple(out)


METRICS: tuple[Metric, ...] = _declared()
# One number each: a Float column apiece in the store, in declaration order.
SCALARS: tuple[str, ...] = tuple(m.name for m in METRICS if not m.per_layer)
# A list each: a JSON column apiece.
PER_LAYER: tuple[str, ...] = tuple(m.name for m in METRICS if m.per_layer)
