"""The compact history's floats: binary, or float32 numbers at their shortest digits; none lost."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
from reglab.api.history import GRAD_NORMS_EVERY, compact_history, shortest_float32


def digits(value: np.floating) -> int:
    """Significant digits of the shortest decimal that gives back `value` in its own type."""
    mantissa = np.format_float_scientific(value, unique=True).split("e")[0]
    return len(mantissa.replace("-", "").replace(".", "").rstrip("0")) or 1


def test_float32_numbers_come_back_exactly_from_their_shortest_digits() -> None:
    rng = np.random.default_rng(0)
    mantissa = rng.uniform(-1, 1, 20_000)
    values = (mantissa * 10.0 ** rng.integers(-44, 38, 20_000)).astype(np.float32)
    values = np.concatenate([values, np.float32([0.0, -0.0, 1e-45, 3.4028235e38, 0.1, 1, 0.5])])
    short, single = shortest_float32(values.astype(np.float64))
    assert single
    written = json.loads(json.dumps(short.tolist()))
    assert (np.float32(written) == values).all()  # lossless, as float32
    # As few significant digits as numpy's shortest float32 repr, between 1e-13 and 1e21 (the
    # powers of ten exact in float64 reach that far; beyond, the values are sent as they are).
    for w, v in zip(written, values.tolist(), strict=True):
        if 1e-13 <= abs(v) <= 1e21:
            assert digits(np.float64(w)) <= digits(np.float32(v)), (w, v)
    assert written[-3] == 0.1
    stored = float(np.float32(0.8435577))  # 0.8435577154159546
    assert json.dumps(shortest_float32(np.array([stored]))[0].tolist()) == "[0.8435577]"


def test_other_values_are_left_as_they_are_and_the_column_is_not_float32() -> None:
    values = np.array([0.1, 0.30000000000000004, math.nan, math.inf, float(np.float32(0.2))])
    out, single = shortest_float32(values)
    assert not single
    assert out[:2].tolist() == [0.1, 0.30000000000000004]
    assert math.isnan(out[2]) and out[3] == math.inf
    assert out[4] == 0.2  # this one float32: shortened, the column not listed


def unpack(text: str, name: str, body: dict[str, Any]) -> list[float]:
    """A binary column as the numbers it holds (float32 when the answer lists it so)."""
    dtype = "<f4" if name in body["float32"] else "<f8"
    return np.frombuffer(base64.b64decode(text), dtype=dtype).astype(np.float64).tolist()


def test_full_columns_go_in_binary_holes_as_json_and_some_gradient_norms() -> None:
    epochs = list(range(1, 46))
    f32 = [float(np.float32(1 / e)) for e in epochs]
    runs = {
        3: {
            "epoch": epochs,
            "grad_norms": [[x, 2 * x] for x in f32],
            "train_loss": [*f32[:-2], math.inf, math.nan],
            "val_loss": [*f32[:-1], None],  # a hole: this column goes as JSON
            "val_acc": [None] * 45,
            "seconds": [e / 3 for e in epochs],
        },
        4: {
            "epoch": [1],
            "grad_norms": [[]],
            "train_loss": [0.5],
            "val_loss": [0.25],
            "val_acc": [None],
            "seconds": [1.0],
        },
    }
    body = json.loads(compact_history(9, 77, runs))
    assert (body["experiment_id"], body["cursor"]) == (9, 77)
    assert body["float32"] == ["train_loss", "val_loss", "val_acc", "grad_norms"]
    run = body["runs"]["3"]
    assert run["epoch"] == epochs
    # Binary: float32 bytes give back every stored number, NaN and ±Inf among them.
    loss = unpack(run["train_loss"], "train_loss", body)
    assert loss[:-2] == f32[:-2] and loss[-2] == math.inf and math.isnan(loss[-1])
    assert unpack(body["runs"]["4"]["train_loss"], "train_loss", body) == [0.5]
    # Seconds are doubles: float64 bytes, exactly as stored.
    assert unpack(run["seconds"], "seconds", body) == [e / 3 for e in epochs]
    # A column with holes: a JSON list, float32 numbers at their shortest digits, null kept.
    assert [float(np.float32(v)) for v in run["val_loss"][:-1]] == f32[:-1]
    assert run["val_loss"][-1] is None and body["runs"]["4"]["val_loss"] == [0.25]
    assert run["val_acc"] == [None] * 45
    assert run["grad_epoch"] == [GRAD_NORMS_EVERY, 2 * GRAD_NORMS_EVERY, 45]
    assert [[float(np.float32(v)) for v in g] for g in run["grad_norms"]] == [
        runs[3]["grad_norms"][e - 1] for e in run["grad_epoch"]
    ]
    assert body["runs"]["4"]["grad_epoch"] == [] and body["runs"]["4"]["grad_norms"] == []
