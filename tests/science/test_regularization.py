"""The lecture's claims about regularization, measured on real runs with fixed seeds."""

import pytest
from reglab.spec import RunSpec
from reglab.training.loop import Lockstep
from reglab.training.models import evaluate
from reglab.training.plan import Group, Member
from science_runs import run_lesson

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


def test_under_adam_l2_and_decoupled_weight_decay_differ() -> None:
    runs = run_lesson("adamw-vs-l2")
    l2 = runs["adam+l2"].epochs[-1].weight_l2
    adamw = runs["adamw"].epochs[-1].weight_l2
    plain = runs["adam"].epochs[-1].weight_l2
    assert l2 < plain and adamw < plain  # both shrink weights…
    assert abs(l2 - adamw) > 0.2 * max(l2, adamw)  # …but not alike at the same λ


def test_l1_proximal_leaves_exact_zeros_where_l2_leaves_none() -> None:
    runs = run_lesson("l1-vs-l2", epochs=60)
    assert runs["l1"].epochs[-1].sparsity > 0.3
    assert runs["l2"].epochs[-1].sparsity == 0.0
    assert runs["none"].epochs[-1].sparsity == 0.0
    # The subgradient only jitters around zero: it rarely lands exactly on it.
    assert runs["l1-subgradient"].epochs[-1].sparsity < 0.01


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


def test_every_overfitting_remedy_beats_none_on_validation_loss() -> None:
    seeds = [run_lesson("overfitting", seed) for seed in range(3)]

    def mean(name: str, kept: bool = False) -> float:
        """Mean over seeds of the lowest validation loss, or (kept) that of the final weights."""
        values = []
        for runs in seeds:
            s = runs[name].summary
            assert s is not None
            restored = s.extra["weights"] == "best"
            values.append(s.final_val_loss if kept and not restored else s.best_val_loss)
        return sum(values) / len(values)

    none_best, none_kept = mean("none"), mean("none", kept=True)
    assert none_kept > none_best  # it does overfit: it ends worse than its best epoch
    for remedy in ("l2", "l1", "dropout", "all"):
        assert mean(remedy) < none_best, remedy
    # Early stopping cannot lower the lowest validation loss (it is the same run until it
    # stops); what it lowers is the validation loss of the weights you end up with.
    assert mean("early-stopping", kept=True) < none_kept
    assert mean("early-stopping", kept=True) == pytest.approx(none_best)


def test_the_dropout_sweep_traces_a_u_curve() -> None:
    runs = run_lesson("dropout-sweep")
    assert all(r.summary is not None for r in runs.values())
    best = [r.summary.best_val_loss for r in runs.values() if r.summary is not None]
    lowest = best.index(min(best))
    assert 0 < lowest < len(best) - 1  # neither no dropout nor the most is best
    assert best[-1] > best[0]  # too much dropout cannot even fit
