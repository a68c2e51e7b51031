"""The lecture's recipe applied to one finished run: is it bad on its training data, and why, or
good on training and bad on validation (overfitting), or fine; with the lesson and remedies.

Two halves. `Trace` is what training keeps while a run trains (a few numbers per epoch) and
`Trace.numbers()` the handful the summary stores in `extra["trace"]`. `diagnose` reads a run's
stored summary (those numbers included) and says where the recipe puts it: computed whenever a
run is read, never stored, like compare.py's verdicts, so a better rule applies to old runs too.
Pure Python (no torch): the API calls it for every run it sends.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from reglab.events import TRAINED_STATUSES, RunStatus

# Training is "bad" while its loss keeps more than half of the loss of a net that knows
# nothing but the label frequencies (ln 2 ≈ 0.69 for two balanced classes; the variance of the
# targets in regression). On the lessons: sigmoid in vanishing-gradients ends at 0.99–1.01 of
# that loss, SGD in optimizers at 0.89, ReLU and Maxout at 0.01–0.13.
STILL_HIGH = 0.5
# Runs trained to their end: a diagnosis reads where training got (a diverged run too).
# The first layer's gradient (epoch 1) below 1/100 of the last's: the vanishing-gradients
# lesson's own claim (sigmoid 1.6–5.2 × 10⁻⁴; ReLU ≥ 0.15, every optimizer ≥ 0.8).
VANISHING = 0.01
# A step that dies: the mean |Δw| of the last 10 epochs below half that of epochs 1–5
# (Adagrad 0.17; SGD 1.18, RMSProp 0.68 on the optimizers lesson at seed setting 0).
STEP_DYING = 0.5
# A loss flat from the start: after the first tenth of the epochs it still holds 90 % of the
# know-nothing loss (SGD 0.95 in optimizers).
FLAT = 0.9
# Overfitting: the validation loss of the weights the run reports is 1.3× its own lowest (the
# overfitting lesson's claim on `none`), that excess is more than a tenth of the know-nothing
# loss (a rise from 0.03 to 0.05 on a net that has learnt almost everything is not called
# overfitting), and the training loss went on falling after validation's best epoch (a short
# run whose losses both bounce is unsteady, not overfitting); or the gap (validation −
# training) is larger than half the know-nothing loss.
ABOVE_MIN = 1.3
EXCESS = 0.1
GAP = 0.5

_REMEDIES: dict[str, dict[str, Any]] = {
    "vanishing-gradients": {
        "lesson": "vanishing-gradients",
        "remedies": [
            {"name": "relu", "override": {"model": {"activation": "relu"}}},
            {"name": "maxout", "override": {"model": {"activation": "maxout"}}},
        ],
    },
    "learning-rate": {
        "lesson": "optimizers",
        "remedies": [
            {"name": "rmsprop", "override": {"optimizer": {"kind": "rmsprop", "lr": 0.005}}},
            {"name": "adagrad", "override": {"optimizer": {"kind": "adagrad", "lr": 0.028}}},
        ],
    },
    "plateau": {
        "lesson": "optimizers",
        "remedies": [
            {"name": "momentum", "override": {"optimizer": {"kind": "momentum", "momentum": 0.9}}},
            {"name": "adam", "override": {"optimizer": {"kind": "adam", "lr": 0.005}}},
        ],
    },
    "overfitting": {
        "lesson": "overfitting",
        "remedies": [
            {
                "name": "early-stopping",
                "override": {"regularization": {"early_stopping": True, "patience": 20}},
            },
            {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
            {"name": "dropout", "override": {"regularization": {"dropout": 0.5}}},
        ],
    },
}


class Trace:
    """What one run's epochs leave for its diagnosis, gathered as they come."""

    def __init__(self, baseline: float) -> None:
        self.baseline = baseline
        self.train_loss: list[float] = []
        self.step_size: list[float] = []
        self.first_grads: list[float] | None = None

    def add(self, train_loss: float, step_size: float, grad_norms: Sequence[float]) -> None:
        self.train_loss.append(train_loss)
        self.step_size.append(step_size)
        if self.first_grads is None:
            self.first_grads = list(grad_norms)

    def numbers(self, best_epoch: int = 0) -> dict[str, float | None]:
        """The numbers a diagnosis reads: kept in the summary's extra["trace"]; `best_epoch` is
        the run's lowest-validation epoch (1-based; 0: none)."""
        n = len(self.train_loss)
        grads = self.first_grads or []
        ratio = None
        if len(grads) >= 2 and grads[-1] > 0:
            ratio = grads[0] / grads[-1]
        return {
            "baseline_loss": self.baseline,
            "first_train_loss": self.train_loss[0] if n else None,
            "early_train_loss": self.train_loss[max(n // 10, 1) - 1] if n else None,
            "grad_ratio": ratio,
            "step_early": statistics.fmean(self.step_size[:5]) if n else None,
            "step_late": statistics.fmean(self.step_size[-10:]) if n else None,
            "train_loss_at_best": self.train_loss[best_epoch - 1] if 0 < best_epoch <= n else None,
        }


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def diagnose(
    status: str, summary: dict[str, Any] | None, spec: dict[str, Any]
) -> dict[str, Any] | None:
    """Where the recipe puts a finished run, or None when it has no summary to read.

    {branch: training | overfitting | fine, cause: vanishing-gradients | learning-rate |
    plateau | null, sentence, numbers (those it used), lesson, remedies (variants to try:
    name and override of the run's spec)}."""
    if summary is None or status not in TRAINED_STATUSES:
        return None
    extra = summary.get("extra") or {}
    trace = extra.get("trace") or {}
    numbers = {k: v for k, v in ((k, _num(v)) for k, v in trace.items()) if v is not None}
    # Whether training can fit the data is read from where it got (the last epoch); whether
    # the weights it reports overfit, from those weights' own losses: early stopping (or a
    # diverged run) reports its best epoch's, whose training loss is that epoch's.
    train = reported = _num(summary.get("final_train_loss"))
    val = _num(summary.get("final_val_loss"))
    best = _num(summary.get("best_val_loss"))
    if extra.get("weights") == "best" and best is not None:
        val = best
        reported = numbers.get("train_loss_at_best", train)
    used = {
        "final_train_loss": train,
        "reported_train_loss": reported,
        "reported_val_loss": val,
        "best_val_loss": best,
    }
    numbers |= {k: v for k, v in used.items() if v is not None}
    if status == RunStatus.DIVERGED:
        lr = _num((spec.get("optimizer") or {}).get("lr"))
        return _training_verdict(numbers, "learning-rate", _diverged(lr), diverged=lr)
    baseline = numbers.get("baseline_loss")
    if train is None or baseline is None or baseline <= 0:
        return None  # trained before runs kept their trace: nothing honest to say
    if train > STILL_HIGH * baseline:
        return _bad_on_training(numbers, train, baseline)
    if val is not None and best is not None:
        excess = val - best
        at_best = numbers.get("train_loss_at_best")
        still_falling = at_best is None or train < at_best
        if val >= ABOVE_MIN * best and excess > EXCESS * baseline and still_falling:
            return _overfitting(
                numbers,
                f"Good on the training data (loss {train:.3g}) but bad on validation: the "
                f"validation loss of the weights it reports, {val:.3g}, is {val / best:.1f}× its "
                f"own lowest ({best:.3g}), while its training loss kept falling. It overfits.",
            )
        if reported is not None and val - reported > GAP * baseline:
            return _overfitting(
                numbers,
                f"Good on the training data (loss {reported:.3g}) but its validation loss is "
                f"{val:.3g}: a gap of {val - reported:.3g}, more than half of what a net that "
                f"knows nothing would lose ({baseline:.3g}). It overfits.",
            )
    unsteady = ""
    if val is not None and best is not None and val >= ABOVE_MIN * best:
        unsteady = (
            f" Its validation loss ended {val / best:.1f}× its lowest, but its training loss "
            "rose after that epoch too: the run is unsteady (a smaller learning rate or more "
            "epochs may help), not overfitting."
        )
    return _fine(
        numbers,
        f"Good on the training data (loss {train:.3g}, {train / baseline:.0%} of a know-nothing "
        f"net's {baseline:.3g}) and on validation ({val:.3g}, lowest {best:.3g}): "
        f"the recipe has nothing to fix.{unsteady}",
    )


def _bad_on_training(numbers: dict[str, float], train: float, baseline: float) -> dict[str, Any]:
    share = f"its training loss ends at {train:.3g}, {train / baseline:.0%} of the {baseline:.3g} "
    share += "a net that knows nothing would lose"
    ratio, early = numbers.get("grad_ratio"), numbers.get("step_early")
    late, flat = numbers.get("step_late"), numbers.get("early_train_loss")
    if ratio is not None and ratio < VANISHING:
        return _training_verdict(
            numbers,
            "vanishing-gradients",
            f"Bad on the training data: {share}. In the first epoch its first layer got a "
            f"gradient {1 / ratio:.0f}× smaller than its last layer's: the gradients vanish "
            "on their way back, so the first layers barely learn.",
        )
    if early is not None and late is not None and early > 0 and late < STEP_DYING * early:
        return _training_verdict(
            numbers,
            "learning-rate",
            f"Bad on the training data: {share}. Its step size died out: the last 10 epochs' "
            f"mean step is {late / early:.0%} of the first 5 epochs'. The learning rate "
            "shrank before the loss was low.",
        )
    if flat is not None and flat >= FLAT * baseline:
        return _training_verdict(
            numbers,
            "plateau",
            f"Bad on the training data: {share}. Its loss was flat from the start (still "
            f"{flat:.3g} after the first tenth of the epochs) while its gradients did not vanish "
            "and its step did not die: it crawls over a plateau.",
        )
    return _training_verdict(
        numbers,
        None,
        f"Bad on the training data: {share}, and the numbers point to no one cause (no "
        "vanishing gradient, no dying step, no flat start): try a bigger net or more epochs.",
    )


def _diverged(lr: float | None) -> str:
    rate = f" ({lr:g})" if lr is not None else ""
    return (
        "Bad on the training data: its loss became NaN or infinite. The steps were too large: "
        f"the learning rate{rate} is too high for this setup."
    )


def _training_verdict(
    numbers: dict[str, float], cause: str | None, sentence: str, diverged: float | None = None
) -> dict[str, Any]:
    found = _REMEDIES.get(cause or "", {"lesson": None, "remedies": []})
    remedies = found["remedies"]
    if diverged is not None:
        lr = float(f"{diverged / 10:.3g}")
        remedies = [{"name": f"lr={lr:g}", "override": {"optimizer": {"lr": lr}}}]
    return {
        "branch": "training",
        "cause": cause,
        "sentence": sentence,
        "numbers": numbers,
        "lesson": found["lesson"],
        "remedies": remedies,
    }


def _overfitting(numbers: dict[str, float], sentence: str) -> dict[str, Any]:
    found = _REMEDIES["overfitting"]
    return {
        "branch": "overfitting",
        "cause": None,
        "sentence": sentence,
        "numbers": numbers,
        "lesson": found["lesson"],
        "remedies": found["remedies"],
    }


def _fine(numbers: dict[str, float], sentence: str) -> dict[str, Any]:
    return {
        "branch": "fine",
        "cause": None,
        "sentence": sentence,
        "numbers": numbers,
        "lesson": None,
        "remedies": [],
    }
