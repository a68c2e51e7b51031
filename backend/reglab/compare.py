"""How sure a comparison is: per-variant aggregates over replicates, paired verdicts, sweeps.

Replicate r of every variant shares initial weights and batch order (spec.Planned), so variant
and reference are compared pair by pair: the difference of replicate r against replicate r, its
mean with a 95 % t-interval, and in how many pairs the variant is lower. Pure Python over the
store's records (no torch, no numpy): the API computes it for every experiment it sends.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from reglab.events import FINAL_STATUSES, TRAINED_STATUSES
from reglab.spec import ExperimentSpec, RunSpec
from reglab.store.records import RunRecord

# Summary numbers aggregated per variant, and those the verdicts compare (lower is better).
METRICS = ("best_val_loss", "final_val_loss", "final_train_loss", "gap", "test_acc", "sparsity")
VERDICT_METRICS = ("final_val_loss", "best_val_loss")
# Runs whose numbers count: trained to their end (a diverged run reports its best weights).
COUNTED = TRAINED_STATUSES
# Swept fields drawn on a log axis when their values span a decade or more.
LOG_FIELDS = frozenset(
    {"optimizer.lr", "regularization.l1", "regularization.l2", "regularization.weight_decay"}
)
# t(0.975, df) for df = 1…10 (repeats ≤ 10 gives df ≤ 9); beyond, the normal 1.96 is close.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)

_WORDS = {
    "final_val_loss": ("ends below", "ends above"),
    "best_val_loss": ("reaches a lower best than", "reaches a higher best than"),
}


def t975(df: int) -> float:
    """The two-sided 95 % critical value of Student's t with df degrees of freedom."""
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


def stats(values: Sequence[float]) -> dict[str, float] | None:
    """mean, sample sd (n − 1; 0 for one value), min and max; None for no values."""
    if not values:
        return None
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "sd": sd, "min": min(values), "max": max(values)}


def summary_value(run: RunRecord, metric: str) -> float | None:
    """A counted run's finite summary number, else None."""
    if run.summary is None or run.status not in COUNTED:
        return None
    value = run.summary.get(metric)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def by_variant(runs: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """Runs grouped by variant, variants in the experiment's order."""
    out: dict[str, list[RunRecord]] = {}
    for run in sorted(runs, key=lambda r: r.position):
        out.setdefault(run.variant or run.name, []).append(run)
    return out


def summarize(spec: ExperimentSpec, runs: Sequence[RunRecord]) -> dict[str, Any]:
    """What an experiment's runs add up to: reference, sweep, aggregates and comparisons.

    The variants are worked out once (each is a validated RunSpec) for all four.
    """
    named = spec.runs()
    reference = spec.reference_name([name for name, _ in named])
    swept = _sweep(named)
    values = dict(zip([n for n, _ in named], swept["values"], strict=True)) if swept else {}
    return {
        "reference": reference,
        "sweep": swept,
        "aggregates": aggregates(runs, values),
        "comparisons": comparisons(runs, reference),
    }


def sweep(spec: ExperimentSpec) -> dict[str, Any] | None:
    """The one numeric field the variants sweep (field, values in variant order, log axis?)."""
    return _sweep(spec.runs())


def _sweep(runs: Sequence[tuple[str, RunSpec]]) -> dict[str, Any] | None:
    if len(runs) < 3:
        return None
    leaves = [_leaves(s) for _, s in runs]
    fields = [k for k in leaves[0] if any(leaf[k] != leaves[0][k] for leaf in leaves[1:])]
    if len(fields) != 1:
        return None
    (field,) = fields
    values = [leaf[field] for leaf in leaves]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    positive = all(v > 0 for v in values)
    log = field in LOG_FIELDS and positive and max(values) >= 10 * min(values)
    return {"field": field, "values": values, "log": log}


def _leaves(spec: RunSpec) -> dict[str, Any]:
    return {
        f"{section}.{key}": value
        for section, body in spec.model_dump().items()
        for key, value in body.items()
    }


def aggregates(runs: Sequence[RunRecord], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Per variant, in order: how many runs and finished replicates, each metric's stats, and
    its swept value (from `values`, by variant name) when the variants sweep one field."""
    out = []
    for variant, members in by_variant(runs).items():
        row: dict[str, Any] = {
            "variant": variant,
            "value": values.get(variant),
            "runs": len(members),
            "n": sum(1 for m in members if m.summary is not None and m.status in COUNTED),
            "finished": all(m.status in FINAL_STATUSES for m in members),
        }
        for metric in METRICS:
            row[metric] = stats([v for m in members if (v := summary_value(m, metric)) is not None])
        out.append(row)
    return out


def comparisons(runs: Sequence[RunRecord], reference: str) -> list[dict[str, Any]]:
    """Every variant against the reference, paired by replicate, for each verdict metric."""
    grouped = by_variant(runs)
    base = {r.replicate: r for r in grouped.get(reference, [])}
    out = []
    for variant, members in grouped.items():
        if variant == reference:
            continue
        for metric in VERDICT_METRICS:
            diffs = []
            for run in members:
                mine, theirs = summary_value(run, metric), None
                if run.replicate in base:
                    theirs = summary_value(base[run.replicate], metric)
                if mine is not None and theirs is not None:
                    diffs.append(mine - theirs)
            out.append(paired(variant, reference, metric, diffs))
    return out


def paired(variant: str, reference: str, metric: str, diffs: Sequence[float]) -> dict[str, Any]:
    """The paired comparison of `variant − reference` differences, with a plain verdict."""
    n = len(diffs)
    lower = sum(1 for d in diffs if d < 0)
    mean = statistics.fmean(diffs) if n else None
    low = high = None
    if n >= 2:
        half = t975(n - 1) * statistics.stdev(diffs) / math.sqrt(n)
        assert mean is not None
        low, high = mean - half, mean + half
    return {
        "variant": variant,
        "reference": reference,
        "metric": metric,
        "n": n,
        "lower": lower,
        "mean_diff": mean,
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict(reference, metric, n, lower, low, high, mean),
    }


def verdict(
    reference: str,
    metric: str,
    n: int,
    lower: int,
    low: float | None,
    high: float | None,
    mean: float | None,
) -> str:
    """A sentence for a student: a difference is clear when its 95 % interval leaves out 0."""
    below, above = _WORDS.get(metric, ("is below", "is above"))
    if n == 0:
        return "no finished pair of replicates yet"
    if n == 1:
        assert mean is not None
        side = f"{below} {reference}" if mean < 0 else f"{above} {reference}"
        if mean == 0:
            side = f"level with {reference}"
        return f"{side} on 1 seed (an anecdote: one seed proves nothing)"
    assert low is not None and high is not None
    if high < 0:
        return f"{below} {reference} in {lower}/{n} seeds"
    if low > 0:
        return f"{above} {reference} in {n - lower}/{n} seeds"
    return f"no clear difference from {reference}: lower in {lower}/{n} seeds"
