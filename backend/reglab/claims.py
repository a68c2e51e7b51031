"""Every lesson's claims (reglab.presets, `spec.claims`) as checks on trained runs.

A check gets a lesson's runs (per variant, its replicates) and says whether the claim holds and
what it saw. Variant numbers are means over the replicates it is given, as the page's aggregates
are: given replicate 0 alone, a check judges one run; given all of them, the replicate means.
CHECKS[lesson][i] checks spec.claims[i]: the two lists have the same length (tested). The science
tests (tests/science) train the lessons and judge them here; a class poll on a claim
(reglab.polls) judges the runs its class watched, from the store.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Summary(Protocol):
    """The numbers of a run's end a check reads (events.SummaryEvent has them)."""

    @property
    def final_val_loss(self) -> float: ...
    @property
    def best_val_loss(self) -> float: ...
    @property
    def final_train_loss(self) -> float: ...
    @property
    def extra(self) -> dict[str, Any]: ...


class Epoch(Protocol):
    """The per-epoch numbers a check reads (events.EpochEvent has them)."""

    @property
    def sparsity(self) -> float: ...
    @property
    def weight_l2(self) -> float: ...
    @property
    def step_size(self) -> float: ...
    @property
    def grad_norms(self) -> Sequence[float]: ...


class Trained(Protocol):
    """A trained run: its summary (None if it ended without one) and its epochs in order."""

    @property
    def summary(self) -> Summary | None: ...
    @property
    def epochs(self) -> Sequence[Epoch]: ...


Variants = Mapping[str, Sequence[Trained]]


@dataclass(frozen=True)
class Seen:
    holds: bool
    what: str  # the numbers behind the verdict, for failure messages, the tally and a poll


Check = Callable[[Variants], Seen]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def summaries(runs: Sequence[Trained]) -> list[Summary]:
    out = [run.summary for run in runs]
    assert all(s is not None for s in out), "a run ended without a summary"
    return [s for s in out if s is not None]


def final_val(runs: Sequence[Trained]) -> float:
    """Mean over replicates of the validation loss at the last epoch (where the curve ends)."""
    return mean([s.final_val_loss for s in summaries(runs)])


def best_val(runs: Sequence[Trained]) -> float:
    return mean([s.best_val_loss for s in summaries(runs)])


def final_train(runs: Sequence[Trained]) -> float:
    return mean([s.final_train_loss for s in summaries(runs)])


def epoch_mean(
    runs: Sequence[Trained], value: Callable[[Epoch], float], first: int, last: int
) -> float:
    """Mean over replicates and over epochs first..last (1-based, inclusive; negative counts
    from the end: -10..-1 are the last ten epochs) of one per-epoch number."""
    values = []
    for run in runs:
        n = len(run.epochs)
        lo, hi = (first if first > 0 else n + first + 1), (last if last > 0 else n + last + 1)
        values += [value(e) for e in run.epochs[lo - 1 : hi]]
    return mean(values)


def last_epoch(runs: Sequence[Trained], value: Callable[[Epoch], float]) -> float:
    return mean([value(run.epochs[-1]) for run in runs])


# ---- overfitting ---------------------------------------------------------------------------

REMEDIES = ("l2", "l1", "dropout", "early-stopping", "all")


def none_learns_by_heart(v: Variants) -> Seen:
    train = final_train(v["none"])
    return Seen(train < 0.05, f"none's final training loss {train:.4f} (claim: < 0.05)")


def none_overfits(v: Variants) -> Seen:
    ratio = final_val(v["none"]) / best_val(v["none"])
    return Seen(ratio >= 1.3, f"none's final/lowest validation loss {ratio:.2f} (claim: ≥ 1.3)")


def every_remedy_ends_below_none(v: Variants) -> Seen:
    none = final_val(v["none"])
    ratios = {r: final_val(v[r]) / none for r in REMEDIES}
    worst = max(ratios, key=lambda r: ratios[r])
    what = ", ".join(f"{r} {x:.2f}" for r, x in ratios.items())
    return Seen(ratios[worst] < 1.0, f"final validation loss / none's: {what} (claim: all < 1)")


# ---- sweeps: a U of the mean final validation loss -------------------------------------------


def _sweep(v: Variants) -> tuple[list[str], list[float]]:
    names = list(v)
    return names, [final_val(v[n]) for n in names]


def interior_minimum(v: Variants) -> Seen:
    names, losses = _sweep(v)
    low = losses.index(min(losses))
    curve = " ".join(f"{x:.3f}" for x in losses)
    return Seen(0 < low < len(losses) - 1, f"lowest at {names[low]}; final val losses {curve}")


def left_end_overfits(ratio: float) -> Check:
    def check(v: Variants) -> Seen:
        names, losses = _sweep(v)
        seen = losses[0] / min(losses)
        return Seen(seen >= ratio, f"{names[0]}: {seen:.2f}× the lowest (claim: ≥ {ratio})")

    return check


def right_end_underfits(ratio: float, train_above: float) -> Check:
    def check(v: Variants) -> Seen:
        names, losses = _sweep(v)
        seen, train = losses[-1] / min(losses), final_train(v[names[-1]])
        return Seen(
            seen >= ratio and train > train_above,
            f"{names[-1]}: {seen:.2f}× the lowest, training loss {train:.3f} "
            f"(claim: ≥ {ratio}, > {train_above})",
        )

    return check


# ---- l1-vs-l2 --------------------------------------------------------------------------------


def _sparsity(runs: Sequence[Trained]) -> float:
    return last_epoch(runs, lambda e: e.sparsity)


def l1_makes_exact_zeros(v: Variants) -> Seen:
    s = _sparsity(v["l1"])
    return Seen(s > 0.3, f"l1's share of exact zeros {s:.3f} (claim: > 0.3)")


def l2_and_none_leave_no_zero(v: Variants) -> Seen:
    l2, none = _sparsity(v["l2"]), _sparsity(v["none"])
    return Seen(l2 == 0.0 and none == 0.0, f"exact zeros: l2 {l2}, none {none} (claim: 0)")


def subgradient_jitters(v: Variants) -> Seen:
    s = _sparsity(v["l1-subgradient"])
    return Seen(s < 0.01, f"l1-subgradient's share of exact zeros {s:.4f} (claim: < 0.01)")


def l2_keeps_weights_small(v: Variants) -> Seen:
    l2, none = (last_epoch(v[n], lambda e: e.weight_l2) for n in ("l2", "none"))
    return Seen(l2 < 0.8 * none, f"‖w‖₂: l2 {l2:.2f}, none {none:.2f} (claim: l2 < 0.8 × none)")


# ---- optimizers ------------------------------------------------------------------------------


def adaptive_and_momentum_beat_sgd(v: Variants) -> Seen:
    sgd = final_train(v["sgd"])
    ratios = {n: final_train(v[n]) / sgd for n in ("momentum", "rmsprop", "adam")}
    what = ", ".join(f"{n} {x:.2f}" for n, x in ratios.items())
    return Seen(max(ratios.values()) < 0.5, f"final training loss / sgd's ({sgd:.3f}): {what}")


def _step(runs: Sequence[Trained], first: int, last: int) -> float:
    return epoch_mean(runs, lambda e: e.step_size, first, last)


def adagrad_rmsprop_start_alike(v: Variants) -> Seen:
    ratio = _step(v["adagrad"], 1, 5) / _step(v["rmsprop"], 1, 5)
    return Seen(0.8 <= ratio <= 1.25, f"epochs 1–5 step adagrad/rmsprop {ratio:.2f} (claim: ±25 %)")


def adagrad_step_parts_from_rmsprops(v: Variants) -> Seen:
    ratio = _step(v["adagrad"], -10, -1) / _step(v["rmsprop"], -10, -1)
    early = _step(v["adagrad"], 6, 15) / _step(v["rmsprop"], 6, 15)
    what = f"step adagrad/rmsprop: last 10 epochs {ratio:.2f} (claim: < 0.5), 6–15 {early:.2f}"
    return Seen(ratio < 0.5, what)


# ---- vanishing gradients -----------------------------------------------------------------------


def _first_to_last_layer(runs: Sequence[Trained]) -> float:
    """Gradient norm of the first layer over the last one's, in the first epoch."""
    return mean([run.epochs[0].grad_norms[0] / run.epochs[0].grad_norms[-1] for run in runs])


def sigmoid_gradients_vanish(v: Variants) -> Seen:
    ratio = _first_to_last_layer(v["sigmoid"])
    return Seen(ratio < 0.01, f"sigmoid first/last layer gradient {ratio:.2e} (claim: < 1e-2)")


def relu_maxout_pass_gradients(v: Variants) -> Seen:
    ratios = {n: _first_to_last_layer(v[n]) for n in ("relu", "maxout")}
    what = ", ".join(f"{n} {x:.2f}" for n, x in ratios.items())
    return Seen(min(ratios.values()) > 0.1, f"first/last layer gradient: {what} (claim: > 0.1)")


def relu_maxout_train_sigmoid_does_not(v: Variants) -> Seen:
    losses = {n: final_train(v[n]) for n in ("sigmoid", "relu", "maxout")}
    what = ", ".join(f"{n} {x:.3f}" for n, x in losses.items())
    holds = losses["sigmoid"] > 0.6 and max(losses["relu"], losses["maxout"]) < 0.3
    return Seen(holds, f"final training loss: {what} (claim: sigmoid > 0.6, others < 0.3)")


# ---- adamw-vs-l2 -------------------------------------------------------------------------------


def _norms(v: Variants) -> dict[str, float]:
    return {n: last_epoch(v[n], lambda e: e.weight_l2) for n in ("adam", "adam+l2", "adamw")}


def both_shrink_weights(v: Variants) -> Seen:
    w = _norms(v)
    holds = w["adam+l2"] < w["adam"] and w["adamw"] < w["adam"]
    return Seen(holds, "‖w‖₂: " + ", ".join(f"{n} {x:.2f}" for n, x in w.items()))


def not_alike(v: Variants) -> Seen:
    w = _norms(v)
    diff = abs(w["adam+l2"] - w["adamw"]) / max(w["adam+l2"], w["adamw"])
    return Seen(diff > 0.2, f"adam+l2 and adamw ‖w‖₂ differ by {diff:.0%} (claim: > 20 %)")


# ---- dropout-ensemble: the summary's `extra.ensemble` (training/ensemble.py) ------------------


def _ensemble(runs: Sequence[Trained]) -> list[dict[str, Any]]:
    return [s.extra["ensemble"] for s in summaries(runs)]


def _falls(values: Sequence[float]) -> bool:
    return all(b < a for a, b in itertools.pairwise(values))


def average_nears_scaled_net(v: Variants) -> Seen:
    diffs = [mean(col) for col in zip(*(e["diff"] for e in _ensemble(v["dropout"])), strict=True)]
    what = " ".join(f"{d:.4f}" for d in diffs)
    return Seen(_falls(diffs), f"mean |p − p_scaled| for N = 1…256: {what} (claim: falls)")


def many_nets_twice_as_close(v: Variants) -> Seen:
    e = _ensemble(v["dropout"])
    ratio = mean([x["diff"][0] for x in e]) / mean([x["diff"][-1] for x in e])
    return Seen(ratio >= 2.0, f"one thinned net / 256 nets' mean difference {ratio:.2f} (≥ 2)")


def single_worse_average_better(v: Variants) -> Seen:
    e = _ensemble(v["dropout"])
    full = mean([x["val_full"] for x in e])
    avg = [mean(col) for col in zip(*(x["val_average"] for x in e), strict=True)]
    what = f"scaled {full:.4f}; N = 1…256: " + " ".join(f"{a:.4f}" for a in avg)
    holds = avg[0] > full and _falls(avg)
    return Seen(holds, f"validation loss {what} (claim: N=1 > scaled, falls)")


def validation_gap_closes(v: Variants) -> Seen:
    e = _ensemble(v["dropout"])
    full = mean([x["val_full"] for x in e])
    one = abs(mean([x["val_average"][0] for x in e]) - full)
    many = abs(mean([x["val_average"][-1] for x in e]) - full)
    what = f"|loss − scaled's|: one net {one:.4f}, 256 nets {many:.4f} (claim: ≥ 3× closer)"
    return Seen(many * 3 <= one, what)


def linear_average_is_exact(v: Variants) -> Seen:
    worst = max(x["exact_max_diff"] for x in _ensemble(v["linear"]))
    return Seen(worst < 1e-5, f"linear: all 4 masks' average vs scaled net, max |Δ| {worst:.2e}")


CHECKS: dict[str, list[Check]] = {
    "overfitting": [none_learns_by_heart, none_overfits, every_remedy_ends_below_none],
    "l1-vs-l2": [
        l1_makes_exact_zeros,
        l2_and_none_leave_no_zero,
        subgradient_jitters,
        l2_keeps_weights_small,
    ],
    "optimizers": [
        adaptive_and_momentum_beat_sgd,
        adagrad_rmsprop_start_alike,
        adagrad_step_parts_from_rmsprops,
    ],
    "vanishing-gradients": [
        sigmoid_gradients_vanish,
        relu_maxout_pass_gradients,
        relu_maxout_train_sigmoid_does_not,
    ],
    "adamw-vs-l2": [both_shrink_weights, not_alike],
    "dropout-sweep": [interior_minimum, left_end_overfits(1.2), right_end_underfits(1.3, 0.4)],
    "l2-sweep": [interior_minimum, left_end_overfits(1.5), right_end_underfits(1.5, 0.4)],
    "dropout-ensemble": [
        average_nears_scaled_net,
        many_nets_twice_as_close,
        single_worse_average_better,
        validation_gap_closes,
        linear_average_is_exact,
    ],
}
