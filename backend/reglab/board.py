"""A challenge's leaderboard, worked out from its experiments' run records (never stored).

An entry's score is its mean over its R seeds on the public test split, with a 95 % t-interval.
Entries are ranked by that mean; a row whose difference from the leader's is not clear (its
95 % interval holds 0: paired by seed when the two share seeds, compare.paired, else Welch's
interval) is marked tied, as is the leader when any row ties with it. The private columns come
from the runs' test split, which the store seals until the reveal, so before it they are null
here without a check of this module's own.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from reglab import compare
from reglab.challenges import BASELINES, ENTRY, STRONG_CANDIDATES, leaves
from reglab.store.challenges import ChallengeRecord
from reglab.store.records import ExperimentRecord, RunRecord

_FIELD = {
    ("public", "accuracy"): "public_acc",
    ("public", "loss"): "public_loss",
    ("private", "accuracy"): "test_acc",
    ("private", "loss"): "test_loss",
}


def score(run: RunRecord, split: str, metric: str) -> float | None:
    """A counted run's finite score on one split, else None."""
    if run.summary is None or run.status not in compare.COUNTED:
        return None
    name = _FIELD[split, metric]
    value = run.summary["extra"].get(name) if split == "public" else run.summary.get(name)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def interval(values: Sequence[float]) -> dict[str, Any] | None:
    """mean, sd, n and the 95 % t-interval of the mean (null bounds for one value)."""
    if not values:
        return None
    n = len(values)
    mean = statistics.fmean(values)
    # In floats: statistics.stdev's exact fractions were half of a 180-entry board's 0.16 s.
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    half = compare.t975(n - 1) * sd / math.sqrt(n) if n > 1 else None
    low = None if half is None else mean - half
    high = None if half is None else mean + half
    return {"mean": mean, "sd": sd, "n": n, "low": low, "high": high}


def _seeds(run: RunRecord) -> tuple[Any, Any]:
    return run.spec["model"]["init_seed"], run.spec["train"]["seed"]


def clear_difference(
    a: Sequence[RunRecord], b: Sequence[RunRecord], split: str, metric: str
) -> bool:
    """Whether a's mean score differs clearly from b's (a 95 % interval leaving out 0)."""
    theirs = {_seeds(r): r for r in b}
    diffs = []
    for run in a:
        other = theirs.get(_seeds(run))
        if other is not None:
            mine, their = score(run, split, metric), score(other, split, metric)
            if mine is not None and their is not None:
                diffs.append(mine - their)
    if len(diffs) >= 2:  # paired by seed, as compare.py pairs an experiment's replicates
        found = compare.paired("a", "b", metric, diffs)
        low, high = found["ci_low"], found["ci_high"]
        return bool(low > 0 or high < 0)
    xs = [v for r in a if (v := score(r, split, metric)) is not None]
    ys = [v for r in b if (v := score(r, split, metric)) is not None]
    if len(xs) < 2 or len(ys) < 2:
        return False  # one seed proves nothing
    se = math.sqrt(statistics.variance(xs) / len(xs) + statistics.variance(ys) / len(ys))
    gap = abs(statistics.fmean(xs) - statistics.fmean(ys))
    return gap > compare.t975(min(len(xs), len(ys)) - 1) * se if se > 0 else gap > 0


def _better(metric: str) -> int:
    """+1 when higher is better (accuracy), −1 when lower is (loss)."""
    return 1 if metric == "accuracy" else -1


def _rank(
    rows: list[dict[str, Any]], runs: dict[int, list[RunRecord]], split: str, metric: str
) -> None:
    """Set `rank` / `tied` (or `private_rank` / `private_tied`) of the entry rows scored."""
    rank_key, tied_key = ("rank", "tied") if split == "public" else ("private_rank", "private_tied")
    scored = [r for r in rows if r["kind"] == ENTRY and r[split] is not None]
    scored.sort(key=lambda r: (-_better(metric) * r[split]["mean"], r["experiment_id"]))
    for row in rows:
        row[rank_key], row[tied_key] = None, False
    if not scored:
        return
    leader = scored[0]
    for place, row in enumerate(scored, start=1):
        row[rank_key] = place
        if row is not leader:
            key = row["experiment_id"]
            tied = not clear_difference(runs[key], runs[leader["experiment_id"]], split, metric)
            row[tied_key] = tied
            leader[tied_key] = leader[tied_key] or tied


def _row(
    experiment: ExperimentRecord,
    name: str,
    kind: str,
    members: list[RunRecord],
    metric: str,
    revealed: bool,
    base: dict[str, Any],
) -> dict[str, Any]:
    public = [v for r in members if (v := score(r, "public", metric)) is not None]
    private = [v for r in members if (v := score(r, "private", metric)) is not None]
    mine = leaves(members[0].spec) if members else {}
    diff = {k: v for k, v in mine.items() if base.get(k) != v and not _is_seed(k)}
    return {
        "experiment_id": experiment.id,
        "owner": experiment.owner if kind == ENTRY else "baseline",
        "name": name,
        "kind": kind,
        "status": "finished" if all(r.finished for r in members) else "training",
        "runs": [r.id for r in members],
        "changed": diff,
        "public": interval(public),
        "private": interval(private) if revealed else None,
    }


def _is_seed(path: str) -> bool:
    return path in ("model.init_seed", "train.seed")


def _validation(run: RunRecord) -> float | None:
    """A counted run's finite final validation loss, else None."""
    if run.summary is None or run.status not in compare.COUNTED:
        return None
    value = run.summary.get("final_val_loss")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def strong_pick(runs: list[RunRecord]) -> str | None:
    """The strong candidate with the lowest mean final validation loss, once all finished."""
    means = {}
    for name in STRONG_CANDIDATES:
        mine = [r for r in runs if r.variant == name]
        if not mine or not all(r.finished for r in mine):
            return None
        values = [v for r in mine if (v := _validation(r)) is not None]
        if values:
            means[name] = statistics.fmean(values)
    return min(means, key=lambda n: means[n]) if means else None


def leaderboard(
    challenge: ChallengeRecord, experiments: list[ExperimentRecord], used: dict[str, int]
) -> dict[str, Any]:
    """The board: baselines then entries, each row with its public (and after the reveal its
    private) score, rank, tie, what it changed from the base and which baselines it beats.
    `used`: entries each student has made."""
    metric = challenge.metric
    revealed = challenge.revealed_at is not None
    base = leaves(challenge.base)
    rows: list[dict[str, Any]] = []
    runs: dict[int, list[RunRecord]] = {}
    for experiment in experiments:
        if experiment.challenge_role == BASELINES:
            strong = strong_pick(experiment.runs)
            picked = {"simple": "simple", "medium": "medium"}
            if strong is not None:
                picked[strong] = "strong"
            for variant, shown in picked.items():
                members = [r for r in experiment.runs if r.variant == variant]
                row = _row(experiment, shown, "baseline", members, metric, revealed, base)
                row["variant"] = variant
                rows.append(row)
        elif experiment.challenge_role == ENTRY:
            row = _row(experiment, experiment.name, ENTRY, experiment.runs, metric, revealed, base)
            row["entries_left"] = max(challenge.max_entries - used.get(experiment.owner, 0), 0)
            runs[experiment.id] = experiment.runs
            rows.append(row)
    _rank(rows, runs, "public", metric)
    if revealed:
        _rank(rows, runs, "private", metric)
    baselines = [r for r in rows if r["kind"] == "baseline"]
    for row in rows:
        if row["kind"] != ENTRY:
            continue
        row["beats"] = [
            b["name"]
            for b in baselines
            if row["public"] is not None
            and b["public"] is not None
            and _better(metric) * (row["public"]["mean"] - b["public"]["mean"]) > 0
        ]
        moved = row.get("private_rank")
        row["rank_change"] = None if moved is None or row["rank"] is None else row["rank"] - moved
    entries = sorted(
        (r for r in rows if r["kind"] == ENTRY),
        key=lambda r: (r["rank"] is None, r["rank"] or 0, r["experiment_id"]),
    )
    return {
        "challenge_id": challenge.id,
        "metric": metric,
        "revealed": revealed,
        "status": challenge.status,
        "rows": baselines + entries,
    }
