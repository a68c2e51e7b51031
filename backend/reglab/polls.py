"""Class polls: the questions a lesson's runs can answer, and the answer they give.

A poll asks which variant of a lesson will win on one number its runs store in their summaries,
or whether one of the lesson's claims will hold (`claim:N`, N counting from 1 as the page lists
them, judged by reglab.claims). The lesson is launched once for the class with at least
MIN_REPEATS seeds, so the outcome is a mean over seeds, not one seed's luck. Its sureness: for a
winner, the paired comparison with the runner-up (reglab.compare: replicate r against replicate
r); for a claim, on how many single seeds it holds too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reglab.claims import CHECKS, Trained
from reglab.compare import by_variant, paired, stats, summary_value
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


CLAIM = re.compile(r"^claim:([1-9][0-9]?)$")
VERDICTS = ["holds", "fails"]


def is_question(question: str) -> bool:
    return question in QUESTIONS or CLAIM.match(question) is not None


def claim_index(question: str) -> int | None:
    """The 0-based index of the claim `claim:N` names; None for another question."""
    found = CLAIM.match(question)
    return int(found.group(1)) - 1 if found else None


def question_text(question: str, spec: dict[str, Any]) -> str:
    """The question as a student reads it (a claim's sentence from the poll's stored spec)."""
    index = claim_index(question)
    if index is None:
        return QUESTIONS[question].text
    return f"Will this claim hold? {spec['claims'][index]}"


def choices(spec: ExperimentSpec, question: str) -> list[str]:
    """What a student may answer: holds or fails for a claim, else the lesson's variants."""
    if claim_index(question) is not None:
        return list(VERDICTS)
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


def outcome(
    question: str,
    runs: Sequence[RunRecord],
    epochs_of: Callable[[RunRecord], Sequence[Any]],
    lesson: str,
) -> dict[str, Any] | None:
    """The choice the runs decided, with the numbers behind it and how sure the verdict is;
    None while any run still trains. A variant with no counted run cannot win. `epochs_of` gives
    a run's stored epochs (a claim may read them), `lesson` names the claim's check."""
    if not runs or any(r.status not in FINAL_STATUSES for r in runs):
        return None
    index = claim_index(question)
    if index is not None:
        return _judge(CHECKS[lesson][index], runs, epochs_of)
    q = QUESTIONS[question]
    grouped = by_variant(runs)
    numbers: dict[str, Any] = {}
    for variant, members in grouped.items():
        values = [v for v in (summary_value(r, q.metric) for r in members) if v is not None]
        numbers[variant] = {**(stats(values) or {}), "n": len(values)}
    ranked = sorted(
        (v for v in numbers if numbers[v]["n"]),
        key=lambda v: numbers[v]["mean"],
        reverse=q.highest,
    )
    decided: dict[str, Any] = {"metric": q.metric, "what": q.what, "numbers": numbers}
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
    theirs = {r.replicate: summary_value(r, q.metric) for r in grouped[runner_up]}
    sign = -1.0 if q.highest else 1.0  # a win is a negative difference either way
    diffs = []
    for run in grouped[winner]:
        mine, other = summary_value(run, q.metric), theirs.get(run.replicate)
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


@dataclass(frozen=True, slots=True)
class _Summary:
    final_val_loss: float
    best_val_loss: float
    final_train_loss: float
    extra: dict[str, Any]  # dropout-ensemble's claims read its `ensemble` numbers


@dataclass(frozen=True, slots=True)
class _Epoch:
    sparsity: float
    weight_l2: float
    step_size: float
    grad_norms: list[float]


@dataclass(frozen=True, slots=True)
class _Run:
    """A stored run as reglab.claims reads one (NULL numbers as NaN, which fail any bound)."""

    summary: _Summary | None
    epochs: list[_Epoch]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _trained(run: RunRecord, epochs: Sequence[Any]) -> _Run:
    s = run.summary
    summary = None
    if s is not None:
        final_val, best_val, final_train = (
            _number(s.get(k)) for k in ("final_val_loss", "best_val_loss", "final_train_loss")
        )
        summary = _Summary(final_val, best_val, final_train, s.get("extra") or {})
    rows = [
        _Epoch(_number(e.sparsity), _number(e.weight_l2), _number(e.step_size), e.grad_norms)
        for e in epochs
    ]
    return _Run(summary, rows)


def _judge(
    check: Callable[[Any], Any],
    runs: Sequence[RunRecord],
    epochs_of: Callable[[RunRecord], Sequence[Any]],
) -> dict[str, Any]:
    """A claim judged on the replicate means, then on each seed alone (its sureness)."""
    trained = [(run, _trained(run, epochs_of(run))) for run in runs]

    def variants(replicate: int | None) -> dict[str, list[Trained]]:
        out: dict[str, list[Trained]] = {}
        for run, t in sorted(trained, key=lambda p: p[0].position):
            if replicate is None or run.replicate == replicate:
                out.setdefault(run.variant or run.name, []).append(t)
        return out

    try:
        seen = check(variants(None))
        seeds = sorted({run.replicate for run in runs})
        held = sum(1 for r in seeds if check(variants(r)).holds)
    except (ArithmeticError, AssertionError, IndexError, KeyError, TypeError) as exc:
        # A run that ended without its numbers (failed, cancelled) leaves the claim unjudged.
        return {"choice": None, "numbers": {}, "sureness": f"the runs could not judge it: {exc}"}
    return {
        "choice": "holds" if seen.holds else "fails",
        "numbers": {},
        "seen": seen.what,
        "held": held,
        "seeds": len(seeds),
        "sureness": f"{seen.what}; on the mean of {len(seeds)} seeds. On single seeds it "
        f"holds in {held} of {len(seeds)}.",
    }
