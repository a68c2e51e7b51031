"""Class polls: the questions a lesson's runs can answer, and the answer they give.

A poll asks which variant of a lesson will win on one number its runs store in their summaries;
the lesson is launched once for the class with at least MIN_REPEATS seeds, so the outcome is a
mean over seeds, not one seed's luck, and its sureness is the paired comparison of the winner
with the runner-up (reglab.compare: replicate r against replicate r).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reglab.compare import _by_variant, _value, paired, stats
from reglab.events import FINAL_STATUSES
from reglab.spec import ExperimentSpec
from reglab.store.records import RunRecord

MIN_REPEATS = 3


@dataclass(frozen=True, slots=True)
class Question:
    """Which variant ends with the lowest (or highest) mean of one summary number."""

    text: str
    metric: str
    highest: bool  # the winner has the highest mean (else the lowest)
    what: str  # the number, as a sentence names it


QUESTIONS: dict[str, Question] = {
    "lowest-final-val-loss": Question(
        "Which variant ends with the lowest validation loss?",
        "final_val_loss",
        False,
        "final validation loss",
    ),
    "most-zero-weights": Question(
        "Which variant ends with the most weights at exactly zero?",
        "sparsity",
        True,
        "share of weights at exactly zero",
    ),
}


def choices(spec: ExperimentSpec) -> list[str]:
    """What a student may answer: the lesson's variants, in its order."""
    return [name for name, _ in spec.runs()]


def poll_spec(lesson: ExperimentSpec, *, repeats: int | None, epochs: int | None) -> ExperimentSpec:
    """The lesson as the class runs it: at least MIN_REPEATS seeds; fewer epochs if asked."""
    body = json.loads(lesson.model_dump_json())
    body["repeats"] = max(repeats or lesson.repeats, MIN_REPEATS)
    if epochs is not None:
        body["base"]["train"]["epochs"] = epochs
        for variant in body.get("variants", []):
            if "epochs" in variant["override"].get("train", {}):
                variant["override"]["train"]["epochs"] = epochs
    return ExperimentSpec.model_validate(body)


def outcome(question: str, runs: Sequence[RunRecord]) -> dict[str, Any] | None:
    """The choice the runs decided, with each variant's numbers and how sure the verdict is;
    None while any run still trains. A variant with no counted run cannot win."""
    if not runs or any(r.status not in FINAL_STATUSES for r in runs):
        return None
    q = QUESTIONS[question]
    grouped = _by_variant(runs)
    numbers: dict[str, Any] = {}
    for variant, members in grouped.items():
        values = [v for v in (_value(r, q.metric) for r in members) if v is not None]
        numbers[variant] = {**(stats(values) or {}), "n": len(values)}
    ranked = sorted(
        (v for v in numbers if numbers[v]["n"]),
        key=lambda v: numbers[v]["mean"],
        reverse=q.highest,
    )
    decided: dict[str, Any] = {"metric": q.metric, "numbers": numbers}
    if not ranked:
        return {**decided, "choice": None, "sureness": "no run finished with a number to compare"}
    winner = ranked[0]
    if len(ranked) == 1:
        return {**decided, "choice": winner, "sureness": "the only variant with a number"}
    runner_up = ranked[1]
    if numbers[winner]["mean"] == numbers[runner_up]["mean"]:
        tied = [v for v in ranked if numbers[v]["mean"] == numbers[winner]["mean"]]
        return {
            **decided,
            "choice": None,
            "tied": tied,
            "sureness": f"a tie: {', '.join(tied)} end level on the {q.what}",
        }
    return {**decided, "choice": winner, **_sureness(q, grouped, winner, runner_up)}


def _sureness(
    q: Question, grouped: dict[str, list[RunRecord]], winner: str, runner_up: str
) -> dict[str, Any]:
    """The winner against the runner-up, seed by seed: how often it won, and the 95 % interval
    of the difference (clear when it leaves out 0)."""
    theirs = {r.replicate: _value(r, q.metric) for r in grouped[runner_up]}
    sign = -1.0 if q.highest else 1.0  # a win is a negative difference either way
    diffs = []
    for run in grouped[winner]:
        mine, other = _value(run, q.metric), theirs.get(run.replicate)
        if mine is not None and other is not None:
            diffs.append(sign * (mine - other))
    pair = paired(winner, runner_up, q.metric, diffs)
    n, won = pair["n"], pair["lower"]
    clear = pair["ci_high"] is not None and pair["ci_high"] < 0
    sentence = (
        f"{winner} beat {runner_up} on the {q.what} in {won} of {n} seeds"
        + ("; the difference is clear (its 95 % interval leaves out 0)" if clear else "")
        + ("" if clear or n < 2 else "; not a clear difference (its 95 % interval includes 0)")
    )
    return {
        "runner_up": runner_up,
        "won": won,
        "seeds": n,
        "clear": clear,
        "sureness": sentence,
    }
