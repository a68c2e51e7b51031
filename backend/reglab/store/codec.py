"""How floats SQL and JSON cannot hold (NaN, ±Inf) are written down and read back."""

from __future__ import annotations

import json
import math
from typing import Any

_VALUES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def nonfinite_name(value: float) -> str:
    """'NaN', 'Infinity' or '-Infinity' for a non-finite float."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def to_wire(obj: Any) -> Any:
    """`obj` as strict JSON can hold it: each non-finite float becomes its name.

    Returns `obj` itself when it holds none (checked by the C encoder: a 3,600-cell decision
    boundary grid is checked in a fraction of the time walking it in Python takes).
    """
    try:
        json.dumps(obj, allow_nan=False)
    except (ValueError, TypeError):
        return _named(obj)
    return obj


def wire_json(obj: Any, *, ensure_ascii: bool = True) -> tuple[Any, str]:
    """`obj` as strict JSON can hold it (as `to_wire`) and its compact JSON text: one encoding
    where the check and the text took one each."""
    try:
        return obj, json.dumps(
            obj, separators=(",", ":"), allow_nan=False, ensure_ascii=ensure_ascii
        )
    except (ValueError, TypeError):
        named = _named(obj)
        return named, json.dumps(
            named, separators=(",", ":"), allow_nan=False, ensure_ascii=ensure_ascii
        )


def _named(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else nonfinite_name(obj)
    if isinstance(obj, dict):
        return {k: _named(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_named(v) for v in obj]
    return obj


def split_nonfinite(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str] | None]:
    """Columns for SQL (non-finite floats as NULL) and the map naming what those NULLs were."""
    columns: dict[str, Any] = {}
    special: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            columns[key] = None
            special[key] = nonfinite_name(value)
        else:
            columns[key] = value
    return columns, special or None


def join_nonfinite(values: dict[str, Any], special: dict[str, Any] | None) -> dict[str, Any]:
    """The inverse of `split_nonfinite`: put NaN/±Inf back where the map names them."""
    if special:
        values.update({key: _VALUES[name] for key, name in special.items()})
    return values
