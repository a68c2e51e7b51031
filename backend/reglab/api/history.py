"""The history a page opens an experiment with (`GET …/metrics?compact=true`), written small.

The full answer writes every float at 17 digits and every epoch's per-layer gradient norms: 13.7 MB
for a finished 30-run × 2,000-epoch experiment. The compact one holds the same epochs and, losing
nothing the page can tell apart, less text:

- A column whose every finite value is a float32 number (the engine's metrics are) is named in
  `float32`.
- A column with a value at every epoch (no null) comes as each run's numbers in binary: the
  base64 text of their little-endian float32 bytes (float64 for a column not in `float32`: the
  learning rate, seconds). NaN and ±Inf are themselves there. A page reads it straight into a
  `Float32Array`: no digits to write here, none to parse there (6.2 MB of JSON for 30 runs ×
  2,000 epochs took the page longer to parse and round than plotly.js took to run).
- A column with holes (a metric some epochs lack) is a JSON list: the float32 numbers at the
  fewest digits that round back to them (`0.8435577`, not `0.8435577154159546`; a reader gets the
  stored number back by rounding to float32, JavaScript's `Math.fround`), others as stored,
  NaN and ±Inf by name, null for a hole.
- Gradient norms come only for every GRAD_NORMS_EVERY-th epoch and each run's last one, listed in
  `grad_epoch` (the page shows the latest; a replay of the curves, at 20 epochs a second, redraws
  the gradient bars at most once a second). The full answer still has every epoch's.

The answer is gzipped here, and a finished experiment's is kept (`CompactCache`): its numbers
never change, and building it takes the server about a second for 30 runs × 2,000 epochs, while a
class opens the same experiment thirty times.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections import OrderedDict
from datetime import datetime
from itertools import accumulate, chain
from typing import Any

import numpy as np

from reglab.store.codec import nonfinite_name
from reglab.store.records import ExperimentRecord
from reglab.store.repo import Store

GRAD_NORMS_EVERY = 20
GZIP_LEVEL = 1  # the fastest: 6.2 MB of JSON → 2.1 MB in 0.06 s (level 6: about 5× the time)
CACHED = 8  # finished experiments' answers kept, about 2 MB each for 30 × 2,000 epochs
# 10**k is exact in float64 up to k = 22: m / 10**k is then the double nearest the decimal.
_EXACT_POWER = 22


def shortest_float32(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """`values` (float64) with each float32 number among them replaced by the double nearest the
    shortest decimal that rounds to the same float32, so that Python and JSON write that decimal;
    and whether every finite value was a float32 number. Other values are left as they are, and
    so are float32 numbers outside about 1e-13…1e21 (no metric is), where the powers of ten this
    divides by are no longer exact."""
    a = np.asarray(values, dtype=np.float64)
    single, exact = _float32(a)
    out = a.copy()
    todo = np.flatnonzero(exact & (a != 0))
    v, target = a[todo], single[todo]
    magnitude = np.floor(np.log10(np.abs(v))).astype(np.int64)
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        places = digits - 1 - magnitude
        power = 10.0 ** np.minimum(np.abs(places), _EXACT_POWER)
        with np.errstate(over="ignore", invalid="ignore"):
            up = places >= 0
            mantissa = np.rint(np.where(up, v * power, v / power))
            candidate = np.where(up, mantissa / power, mantissa * power)
            hit = (np.abs(places) <= _EXACT_POWER) & (candidate.astype(np.float32) == target)
        out[todo[hit]] = candidate[hit]
        miss = ~hit
        todo, v, target, magnitude = todo[miss], v[miss], target[miss], magnitude[miss]
        if not len(todo):
            break
    return out, bool(exact.sum() == np.isfinite(a).sum())


def _float32(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`a` rounded to float32, and where that is `a` itself: its float32 numbers (finite ones)."""
    with np.errstate(over="ignore", invalid="ignore"):
        single = a.astype(np.float32)
    return single, np.isfinite(a) & (single.astype(np.float64) == a)


def _wire(values: list[Any]) -> tuple[list[Any], bool]:
    """A column of floats (None where a run has no value) as JSON holds it, the float32 numbers
    shortened when all of it is float32; and whether it was."""
    if not values:
        return [], True
    holes = [i for i, v in enumerate(values) if v is None] if None in values else []
    a = np.array(values, dtype=np.float64)  # None becomes NaN; put back below
    short, single = shortest_float32(a)
    out: list[Any] = (short if single else a).tolist()
    for i in np.flatnonzero(~np.isfinite(a)).tolist():
        out[i] = nonfinite_name(out[i])
    for i in holes:
        out[i] = None
    return out, single


def _split(values: list[Any], lengths: list[int]) -> list[list[Any]]:
    ends = list(accumulate(lengths))
    return [values[end - n : end] for n, end in zip(lengths, ends, strict=True)]


def _grad_rows(columns: dict[str, list[Any]]) -> list[int]:
    """Indices of the epochs whose gradient norms the compact answer keeps."""
    epochs, grads = columns["epoch"], columns.get("grad_norms") or []
    last = len(epochs) - 1
    return [
        i
        for i, epoch in enumerate(epochs)
        if (epoch % GRAD_NORMS_EVERY == 0 or i == last) and i < len(grads) and grads[i]
    ]


def _binary(parts: list[list[Any]]) -> tuple[list[str], bool] | None:
    """Each run's part of a column as the base64 text of its little-endian float32 bytes (float64
    when not every finite value is a float32 number) and whether float32; None if it has holes."""
    if any(None in part for part in parts):
        return None
    a = np.array(list(chain.from_iterable(parts)), dtype=np.float64)
    single = bool(_float32(a)[1].sum() == np.isfinite(a).sum())
    raw = a.astype("<f4" if single else "<f8")
    ends = list(accumulate(len(part) for part in parts))[:-1]
    texts = [base64.b64encode(run.tobytes()).decode("ascii") for run in np.split(raw, ends)]
    return texts, single


def compact_history(experiment_id: int, cursor: int, runs: dict[int, dict[str, list[Any]]]) -> str:
    """The JSON text of the compact history (see the module's docstring)."""
    order = list(runs)
    names: list[str] = []
    for columns in runs.values():
        names += [n for n in columns if n not in ("epoch", "grad_norms") and n not in names]
    body_runs: dict[str, dict[str, Any]] = {str(r): {"epoch": runs[r]["epoch"]} for r in order}
    float32: list[str] = []
    for name in names:
        parts = [runs[r].get(name) or [None] * len(runs[r]["epoch"]) for r in order]
        packed = _binary(parts)
        written: list[Any]
        if packed is not None:
            written, single = packed
        else:
            wired, single = _wire(list(chain.from_iterable(parts)))
            written = _split(wired, [len(p) for p in parts])
        for r, part in zip(order, written, strict=True):
            body_runs[str(r)][name] = part
        if single:
            float32.append(name)
    kept = {r: _grad_rows(runs[r]) for r in order}
    rows = [runs[r]["grad_norms"][i] for r in order for i in kept[r]]
    wired, single = _wire(list(chain.from_iterable(rows)))
    grads = _split(wired, [len(row) for row in rows])
    start = 0
    for r in order:
        body_runs[str(r)]["grad_epoch"] = [runs[r]["epoch"][i] for i in kept[r]]
        body_runs[str(r)]["grad_norms"] = grads[start : start + len(kept[r])]
        start += len(kept[r])
    if single:
        float32.append("grad_norms")
    body = {
        "experiment_id": experiment_id,
        "cursor": cursor,
        "float32": float32,
        "grad_norms_every": GRAD_NORMS_EVERY,
        "runs": body_runs,
    }
    return json.dumps(body, separators=(",", ":"), allow_nan=False)


# (experiment id, its creation time, the cursor): an id freed by a delete and used again names
# another experiment, and a history that grew (a live holder of shared numbers) has a new cursor.
CacheKey = tuple[int, datetime, int]


class CompactCache:
    """The gzipped compact histories of the finished experiments opened last."""

    def __init__(self, size: int = CACHED) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._bodies: OrderedDict[CacheKey, bytes] = OrderedDict()

    def get(self, key: CacheKey) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: CacheKey, body: bytes) -> None:
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)


def compact_gzip(*, experiment: ExperimentRecord, store: Store, cache: CompactCache) -> bytes:
    """The gzipped JSON of the compact history; a finished experiment's from `cache` as long as
    its cursor has not moved (it cannot, but for a live run whose numbers it shares)."""
    finished = experiment.status == "finished"
    if finished:
        key = (experiment.id, experiment.created_at, store.history_cursor(experiment.id))
        body = cache.get(key)
        if body is not None:
            return body
    cursor, runs = store.history_columns(experiment.id)
    body = gzip.compress(compact_history(experiment.id, cursor, runs).encode(), GZIP_LEVEL)
    if finished:
        cache.put((experiment.id, experiment.created_at, cursor), body)
    return body
