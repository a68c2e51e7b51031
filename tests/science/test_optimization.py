"""The lecture's claims about optimizers, on a run built to show one mechanism."""

import pytest
from reglab.spec import RunSpec
from science_runs import run_specs

pytestmark = pytest.mark.slow


def test_adagrads_step_keeps_shrinking_and_rmsprops_does_not() -> None:
    # Noisy labels keep the gradients from dying out, so only the optimizer shapes the step.
    def spec(kind: str, lr: float) -> RunSpec:
        return RunSpec.model_validate(
            {
                "data": {"kind": "moons", "n_train": 200, "label_noise": 0.2},
                "model": {"hidden": [32], "activation": "tanh"},
                "optimizer": {"kind": kind, "lr": lr},
                "train": {"epochs": 60, "batch_size": 10, "snapshot_every": 60},
            }
        )

    runs = run_specs([("adagrad", spec("adagrad", 0.05)), ("rmsprop", spec("rmsprop", 0.005))])

    def shrink(name: str) -> float:
        steps = [e.step_size for e in runs[name].epochs]
        return (sum(steps[-10:]) / 10) / (sum(steps[5:15]) / 10)  # epochs 51–60 vs 6–15

    assert shrink("adagrad") < 0.7
    assert shrink("rmsprop") > 0.9
    assert shrink("rmsprop") > 1.5 * shrink("adagrad")
