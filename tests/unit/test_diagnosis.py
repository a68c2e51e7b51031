"""The recipe's rules (reglab.diagnosis) on summaries shaped like the lessons' runs."""

from __future__ import annotations

import math
from typing import Any

from reglab.diagnosis import Trace, diagnose

LN2 = math.log(2)
SPEC: dict[str, Any] = {"optimizer": {"kind": "sgd", "lr": 0.1}}


def summary(train: float, val: float, best: float, weights: str = "last", **trace: Any) -> dict:
    numbers = {
        "baseline_loss": LN2,
        "first_train_loss": 0.6,
        "early_train_loss": 0.4,
        "grad_ratio": 0.5,
        "step_early": 1e-3,
        "step_late": 1e-3,
    } | trace
    return {
        "final_train_loss": train,
        "final_val_loss": val,
        "best_val_loss": best,
        "extra": {"weights": weights, "trace": numbers},
    }


def test_a_net_still_at_chance_with_a_tiny_first_layer_gradient_has_vanishing_gradients() -> None:
    found = diagnose("completed", summary(0.69, 0.70, 0.69, grad_ratio=2e-4), SPEC)
    assert found is not None
    assert (found["branch"], found["cause"], found["lesson"]) == (
        "training",
        "vanishing-gradients",
        "vanishing-gradients",
    )
    assert {r["name"] for r in found["remedies"]} == {"relu", "maxout"}
    assert found["numbers"]["grad_ratio"] == 2e-4
    assert "5000× smaller" in found["sentence"]


def test_a_step_that_died_out_is_blamed_on_the_learning_rate() -> None:
    found = diagnose("completed", summary(0.48, 0.52, 0.52, step_late=1.7e-4), SPEC)
    assert found is not None and (found["branch"], found["cause"]) == ("training", "learning-rate")
    assert found["lesson"] == "optimizers"


def test_a_loss_flat_from_the_start_with_healthy_gradients_is_a_plateau() -> None:
    found = diagnose("completed", summary(0.62, 0.62, 0.62, early_train_loss=0.66), SPEC)
    assert found is not None and (found["branch"], found["cause"]) == ("training", "plateau")
    assert {r["name"] for r in found["remedies"]} == {"momentum", "adam"}


def test_a_high_training_loss_with_no_sign_of_a_cause_names_none() -> None:
    found = diagnose("completed", summary(0.5, 0.5, 0.5), SPEC)
    assert found is not None and (found["branch"], found["cause"]) == ("training", None)
    assert found["remedies"] == []


def test_a_validation_loss_far_above_its_own_minimum_is_overfitting() -> None:
    found = diagnose("completed", summary(0.01, 0.9, 0.25), SPEC)
    assert found is not None and (found["branch"], found["lesson"]) == (
        "overfitting",
        "overfitting",
    )
    assert "early-stopping" in {r["name"] for r in found["remedies"]}


def test_a_small_rise_of_a_small_validation_loss_is_not_overfitting() -> None:
    # ReLU in vanishing-gradients at seed setting 6: 0.067 → 0.099 is 1.47× but 0.03 of loss.
    found = diagnose("completed", summary(0.02, 0.099, 0.067), SPEC)
    assert found is not None and found["branch"] == "fine"


def test_a_validation_rise_while_the_training_loss_rose_too_is_not_overfitting() -> None:
    # ReLU after 6 epochs on 60 points: both losses bounce; validation's best came earlier.
    found = diagnose("completed", summary(0.338, 0.437, 0.274, train_loss_at_best=0.30), SPEC)
    assert found is not None and found["branch"] == "fine"
    assert "unsteady" in found["sentence"] and "1.6×" in found["sentence"]
    falling = diagnose("completed", summary(0.338, 0.437, 0.274, train_loss_at_best=0.4), SPEC)
    assert falling is not None and falling["branch"] == "overfitting"


def test_a_large_gap_alone_is_overfitting() -> None:
    found = diagnose("completed", summary(0.01, 0.5, 0.45), SPEC)
    assert found is not None and found["branch"] == "overfitting"
    assert "gap" in found["sentence"]


def test_early_stopping_reports_its_best_weights_so_it_no_longer_overfits() -> None:
    found = diagnose("stopped_early", summary(0.05, 0.9, 0.25, weights="best"), SPEC)
    assert found is not None and found["branch"] == "fine"
    assert found["numbers"]["reported_val_loss"] == 0.25


def test_restored_weights_are_judged_by_their_own_epochs_training_loss() -> None:
    # Early stopping at seed setting 5 of `overfitting`: the last epoch's training loss (0.146)
    # made a gap of 0.39 with the best epoch's validation loss; the best epoch's own was 0.3.
    best = summary(0.146, 0.6, 0.536, weights="best", train_loss_at_best=0.3)
    found = diagnose("stopped_early", best, SPEC)
    assert found is not None and found["branch"] == "fine"
    assert found["numbers"]["reported_train_loss"] == 0.3


def test_a_diverged_run_is_told_to_lower_its_learning_rate_tenfold() -> None:
    found = diagnose("diverged", summary(math.nan, math.nan, 0.5, weights="best"), SPEC)
    assert found is not None and (found["branch"], found["cause"]) == ("training", "learning-rate")
    assert found["remedies"] == [{"name": "lr=0.01", "override": {"optimizer": {"lr": 0.01}}}]
    assert "final_train_loss" not in found["numbers"]  # NaN is no number to show


def test_unfinished_runs_and_runs_without_a_trace_get_no_diagnosis() -> None:
    assert diagnose("running", summary(0.5, 0.5, 0.5), SPEC) is None
    assert diagnose("cancelled", summary(0.5, 0.5, 0.5), SPEC) is None
    assert diagnose("completed", None, SPEC) is None
    old = {"final_train_loss": 0.1, "final_val_loss": 0.2, "best_val_loss": 0.2, "extra": {}}
    assert diagnose("completed", old, SPEC) is None


def test_a_trace_keeps_the_first_epochs_gradients_and_the_steps_means() -> None:
    trace = Trace(LN2)
    for epoch in range(1, 21):
        trace.add(1 / epoch, 0.1 / epoch, [epoch * 1e-3, 1.0])
    numbers = trace.numbers()
    assert numbers["grad_ratio"] == 1e-3
    assert numbers["first_train_loss"] == 1.0
    assert numbers["early_train_loss"] == 0.5  # after the first tenth: epoch 2
    assert numbers["step_early"] == sum(0.1 / e for e in range(1, 6)) / 5
    assert numbers["step_late"] == sum(0.1 / e for e in range(11, 21)) / 10
    assert numbers["train_loss_at_best"] is None
    assert trace.numbers(best_epoch=4)["train_loss_at_best"] == 0.25
