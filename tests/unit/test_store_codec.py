"""NaN and ±Inf: named on the wire, kept exactly in the store's side map."""

from __future__ import annotations

import json
import math

from reglab.store.codec import join_nonfinite, split_nonfinite, to_wire


def test_wire_names_every_non_finite_float_at_any_depth() -> None:
    payload = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": None, "e": "x"}
    wire = to_wire(payload)
    assert wire == {"a": "NaN", "b": [1.0, "Infinity", {"c": "-Infinity"}], "d": None, "e": "x"}
    json.dumps(wire, allow_nan=False)  # strict JSON, as browsers parse it
    assert math.isnan(payload["a"])  # the input is left as it was


def test_wire_returns_finite_payloads_untouched() -> None:
    grid = {"z": [[0.5] * 60 for _ in range(60)]}
    assert to_wire(grid) is grid


def test_split_then_join_restores_the_exact_values() -> None:
    values = {"loss": math.nan, "best": -math.inf, "acc": None, "lr": 0.1}
    columns, special = split_nonfinite(values)
    assert columns == {"loss": None, "best": None, "acc": None, "lr": 0.1}
    assert special == {"loss": "NaN", "best": "-Infinity"}
    back = join_nonfinite(dict(columns), special)
    assert math.isnan(back["loss"]) and back["best"] == -math.inf and back["acc"] is None


def test_finite_values_need_no_side_map() -> None:
    assert split_nonfinite({"loss": 0.3}) == ({"loss": 0.3}, None)


def test_an_answer_is_strict_json_written_once_naming_what_json_cannot_hold() -> None:
    from reglab.api.app import WireJSONResponse

    render = WireJSONResponse(None).render
    plain = {"name": "Ærøskøbing", "loss": [0.5, 1e-300], "n": 3, "none": None}
    assert render(plain) == json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode()
    diverged = {"best_val_loss": math.nan, "gap": [math.inf, -math.inf, 1.0]}
    assert json.loads(render(diverged)) == {
        "best_val_loss": "NaN",
        "gap": ["Infinity", "-Infinity", 1.0],
    }
