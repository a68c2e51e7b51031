"""The lessons: named experiments that each make one claim of the lecture visible.

Lesson names and variant names are stable identifiers (the API, the dashboard and the tests
refer to them). Each lesson finishes in seconds on one core, so a class can run them live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reglab.spec import ExperimentSpec


@dataclass(frozen=True, slots=True)
class Lesson:
    """A named experiment with a sentence telling a student what to look for."""

    name: str
    title: str
    description: str
    spec: ExperimentSpec


class LessonNotFound(KeyError):
    """No lesson by that name; the message lists the ones there are."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no lesson named {name!r}; choose one of: {', '.join(LESSONS)}.")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def _lesson(
    name: str,
    title: str,
    description: str,
    base: dict[str, Any],
    variants: list[tuple[str, dict[str, Any]]] | None = None,
    grid: list[dict[str, Any]] | None = None,
) -> Lesson:
    spec = ExperimentSpec.model_validate(
        {
            "name": title,
            "description": description,
            "lesson": name,
            "base": base,
            "variants": [{"name": n, "override": o} for n, o in variants or []],
            "grid": grid or [],
        }
    )
    return Lesson(name, title, description, spec)


# Few, noisy images and a wide net: it memorizes its 200 training digits within a dozen epochs,
# and from then on its validation loss climbs.
_OVERFIT: dict[str, Any] = {
    "data": {"kind": "digits", "n_train": 200, "noise": 2.0},
    "model": {"hidden": [128, 128], "activation": "relu"},
    "optimizer": {"kind": "adam", "lr": 0.003},
    "train": {"epochs": 80, "batch_size": 20, "snapshot_every": 10},
}

_LESSONS = [
    _lesson(
        "overfitting",
        "Overfitting remedies",
        "A wide net on 200 noisy digit images learns them by heart: its training loss falls to "
        "almost 0 while its validation loss climbs. Compare how low each remedy keeps the "
        "validation loss, and the gap between the two curves.",
        _OVERFIT,
        [
            ("none", {}),
            ("l2", {"regularization": {"l2": 0.01}}),
            ("l1", {"regularization": {"l1": 0.001}}),
            ("dropout", {"regularization": {"dropout": 0.5}}),
            ("early-stopping", {"regularization": {"early_stopping": True, "patience": 20}}),
            (
                "all",
                {
                    "regularization": {
                        "l2": 0.005,
                        "dropout": 0.3,
                        "early_stopping": True,
                        "patience": 20,
                    }
                },
            ),
        ],
    ),
    _lesson(
        "l1-vs-l2",
        "L1 vs L2",
        "Both penalties shrink weights, differently: L1 subtracts a fixed amount each step and "
        "drives many weights to exactly zero (watch sparsity and the spike at 0 in the "
        "histogram), L2 multiplies by a factor below 1 and keeps them small but non-zero.",
        {
            "data": {"kind": "moons", "n_train": 200, "noise": 0.25},
            "model": {"hidden": [64, 64], "activation": "relu"},
            "optimizer": {"kind": "sgd", "lr": 0.1},
            "train": {"epochs": 100, "batch_size": 20, "snapshot_every": 10},
        },
        [
            ("none", {}),
            ("l2", {"regularization": {"l2": 0.01}}),
            ("l1", {"regularization": {"l1": 0.005, "l1_mode": "proximal"}}),
            ("l1-subgradient", {"regularization": {"l1": 0.005, "l1_mode": "subgradient"}}),
        ],
    ),
    _lesson(
        "optimizers",
        "Optimizers race",
        "The same net and data under five optimizers, each at a usual learning rate. Watch "
        "which training loss drops fastest, and the step size: Adagrad's keeps shrinking, "
        "RMSProp's and Adam's do not.",
        {
            "data": {"kind": "spiral", "n_train": 300, "noise": 0.2, "classes": 2},
            "model": {"hidden": [64, 64], "activation": "tanh"},
            "train": {"epochs": 100, "batch_size": 32, "snapshot_every": 10},
        },
        [
            ("sgd", {"optimizer": {"kind": "sgd", "lr": 0.05}}),
            ("momentum", {"optimizer": {"kind": "momentum", "lr": 0.05, "momentum": 0.9}}),
            ("adagrad", {"optimizer": {"kind": "adagrad", "lr": 0.05}}),
            ("rmsprop", {"optimizer": {"kind": "rmsprop", "lr": 0.005}}),
            ("adam", {"optimizer": {"kind": "adam", "lr": 0.005}}),
        ],
    ),
    _lesson(
        "vanishing-gradients",
        "Vanishing gradients",
        "A deep net with sigmoid units barely learns: its first layers get gradients orders "
        "of magnitude smaller than the last (see the gradient norm per layer). ReLU and Maxout "
        "pass gradients through and train.",
        {
            "data": {"kind": "moons", "n_train": 200, "noise": 0.2},
            "model": {"hidden": [32, 32, 32, 32, 32, 32], "maxout_pieces": 2},
            "optimizer": {"kind": "sgd", "lr": 0.1},
            "train": {"epochs": 60, "batch_size": 20, "snapshot_every": 10},
        },
        [
            ("sigmoid", {"model": {"activation": "sigmoid"}}),
            ("relu", {"model": {"activation": "relu"}}),
            ("maxout", {"model": {"activation": "maxout"}}),
        ],
    ),
    _lesson(
        "adamw-vs-l2",
        "Weight decay vs L2 under Adam",
        "With plain SGD an L2 penalty and weight decay are the same update; under Adam they are "
        "not. The L2 gradient is rescaled by Adam per weight, decoupled decay (AdamW) is not: "
        "compare the weight norms and histograms at the same λ.",
        {
            "data": {"kind": "moons", "n_train": 200, "noise": 0.3},
            "model": {"hidden": [64, 64], "activation": "relu"},
            "optimizer": {"kind": "adam", "lr": 0.01},
            "train": {"epochs": 100, "batch_size": 20, "snapshot_every": 10},
        },
        [
            ("adam", {}),
            ("adam+l2", {"regularization": {"l2": 0.05}}),
            ("adamw", {"optimizer": {"kind": "adamw"}, "regularization": {"weight_decay": 0.05}}),
        ],
    ),
    _lesson(
        "dropout-sweep",
        "Dropout rate sweep",
        "The overfitting setup at dropout rates from 0 to 0.8. Too little dropout still "
        "overfits, too much cannot even fit the training data: the best validation loss "
        "traces a U.",
        _OVERFIT,
        grid=[{"field": "regularization.dropout", "values": [0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8]}],
    ),
]

LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in _LESSONS}


def get_lesson(name: str) -> Lesson:
    """The lesson called `name`, or LessonNotFound listing the valid names."""
    try:
        return LESSONS[name]
    except KeyError:
        raise LessonNotFound(name) from None
