"""Aggregates, verdicts and sweeps: the sentences a student reads and when each is said."""

from __future__ import annotations

from typing import Any

import pytest
from reglab.compare import paired, sweep, t975
from reglab.spec import ExperimentSpec


def test_a_clear_drop_in_every_pair_says_so() -> None:
    comp = paired("l2", "none", "final_val_loss", [-0.2, -0.25, -0.18, -0.22, -0.3])
    assert comp["lower"] == 5 and comp["ci_high"] < 0
    assert comp["verdict"] == "ends below none in 5/5 seeds"


def test_an_interval_that_holds_zero_is_no_clear_difference() -> None:
    comp = paired("l1", "none", "final_val_loss", [-0.2, 0.1, -0.05, 0.15, -0.01])
    assert comp["ci_low"] < 0 < comp["ci_high"]
    assert comp["verdict"] == "no clear difference from none: lower in 3/5 seeds"


def test_a_clear_rise_counts_the_pairs_above() -> None:
    comp = paired("dropout", "none", "best_val_loss", [0.1, 0.12, 0.09, 0.11, -0.001])
    assert comp["ci_low"] > 0
    assert comp["verdict"] == "reaches a higher best than none in 4/5 seeds"


def test_one_seed_is_called_an_anecdote_and_none_is_not_yet() -> None:
    one = paired("l2", "none", "final_val_loss", [-0.3])
    assert one["ci_low"] is None and "an anecdote" in one["verdict"]
    assert one["verdict"].startswith("ends below none on 1 seed")
    assert paired("l2", "none", "final_val_loss", [])["verdict"].startswith("no finished pair")


def test_the_interval_is_the_t_interval() -> None:
    diffs = [1.0, 2.0, 3.0]  # mean 2, sd 1, se 1/√3
    comp = paired("a", "b", "final_val_loss", diffs)
    half = 4.303 / 3**0.5
    assert comp["ci_low"] == pytest.approx(2 - half) and comp["ci_high"] == pytest.approx(2 + half)
    assert t975(100) == 1.96


def experiment(**body: Any) -> ExperimentSpec:
    return ExperimentSpec.model_validate(body)


def test_a_one_axis_grid_of_l2_is_a_log_sweep() -> None:
    exp = experiment(grid=[{"field": "regularization.l2", "values": [1e-4, 1e-3, 1e-2, 1e-1]}])
    assert sweep(exp) == {
        "field": "regularization.l2",
        "values": [1e-4, 1e-3, 1e-2, 1e-1],
        "log": True,
    }


def test_a_dropout_sweep_from_zero_is_linear_and_variants_count_too() -> None:
    grid = experiment(grid=[{"field": "regularization.dropout", "values": [0.0, 0.3, 0.6]}])
    assert sweep(grid) == {
        "field": "regularization.dropout",
        "values": [0.0, 0.3, 0.6],
        "log": False,
    }
    variants = experiment(
        variants=[
            {"name": f"lr {lr}", "override": {"optimizer": {"lr": lr}}} for lr in (0.001, 0.01, 0.1)
        ]
    )
    assert sweep(variants) == {"field": "optimizer.lr", "values": [0.001, 0.01, 0.1], "log": True}


def test_variants_that_differ_in_two_fields_or_are_few_are_no_sweep() -> None:
    two = experiment(
        variants=[
            {"name": "a"},
            {"name": "b", "override": {"regularization": {"l2": 0.1, "dropout": 0.2}}},
            {"name": "c", "override": {"regularization": {"l2": 0.2}}},
        ]
    )
    assert sweep(two) is None
    assert sweep(experiment(grid=[{"field": "regularization.l2", "values": [0.0, 0.1]}])) is None
    kinds = [
        {"name": k, "override": {"optimizer": {"kind": k}}} for k in ("sgd", "adam", "adagrad")
    ]
    assert sweep(experiment(variants=kinds)) is None
