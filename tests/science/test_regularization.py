"""The lecture's claims about regularization, measured on real runs with fixed seeds."""

import pytest
from reglab.spec import RunSpec
from reglab.training.loop import Lockstep
from reglab.training.models import evaluate
from reglab.training.plan import Group, Member

pytestmark = pytest.mark.slow


def small(**over: dict[str, object]) -> RunSpec:
    base: dict[str, dict[str, object]] = {
        "data": {"kind": "moons", "n_train": 120, "noise": 0.3},
        "model": {"hidden": [32, 32]},
        "optimizer": {"kind": "sgd", "lr": 0.1},
        "train": {"epochs": 30, "batch_size": 16, "snapshot_every": 30},
    }
    for key, values in over.items():
        base[key] = base.get(key, {}) | values  # type: ignore[operator]
    return RunSpec.model_validate(base)


def _l2_vs_decay(kind: str, epochs: int) -> float:
    """Largest weight difference between an L2 penalty and decoupled decay at the same λ."""
    lam, over = 0.01, {"kind": kind, "lr": 0.1 if kind == "sgd" else 0.01}
    run = Lockstep(
        Group(
            (
                Member(
                    0,
                    "l2",
                    small(optimizer=over, regularization={"l2": lam}, train={"epochs": epochs}),
                ),
                Member(
                    1,
                    "decay",
                    small(
                        optimizer=over,
                        regularization={"weight_decay": lam},
                        train={"epochs": epochs},
                    ),
                ),
                Member(2, "none", small(optimizer=over, train={"epochs": epochs})),
            )
        )
    )
    list(run.events())
    params = [p.detach() for p in run.net.parameters()]
    moved = max(float((w[0] - w[2]).abs().max()) for w in params)
    assert moved > 1e-3  # the penalty did change the weights
    return max(float((w[0] - w[1]).abs().max()) for w in params)


def test_l2_penalty_under_plain_sgd_is_weight_decay() -> None:
    # One epoch (8 updates): equal to float32 rounding. Over 30 epochs the rounding of two
    # different float expressions of one update drifts a little, still far below Adam's gap.
    assert _l2_vs_decay("sgd", epochs=1) < 1e-6
    assert _l2_vs_decay("sgd", epochs=30) < 2e-5


def test_under_adam_l2_penalty_and_weight_decay_are_different_updates() -> None:
    assert _l2_vs_decay("adam", epochs=1) > 1e-3


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_keeps_the_weights_of_the_best_validation_epoch(restore: bool) -> None:
    spec = small(
        data={"n_train": 60, "noise": 0.35},
        model={"hidden": [128, 128]},
        optimizer={"kind": "adam", "lr": 0.01},
        train={"epochs": 150, "batch_size": 10},
        regularization={"early_stopping": True, "patience": 10, "restore_best": restore},
    )
    run = Lockstep(Group((Member(0, "es", spec),)))
    events = list(run.events())
    summary = next(e for e in events if e.type == "summary")
    epochs = [e for e in events if e.type == "epoch"]
    assert summary.status == "stopped_early"
    assert summary.best_epoch < epochs[-1].epoch  # it went on past its best, then stopped
    val_loss, _ = evaluate(run.net, run.data.x_val, run.data.y_val)
    test_loss, _ = evaluate(run.net, run.data.x_test, run.data.y_test)
    kept = epochs[summary.best_epoch - 1] if restore else epochs[-1]
    assert float(val_loss[0]) == pytest.approx(kept.val_loss, abs=1e-6)
    assert summary.test_loss == pytest.approx(float(test_loss[0]), abs=1e-6)
