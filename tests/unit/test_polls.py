"""A poll's outcome from its runs' summaries: the winner, its sureness, ties and unfinished runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reglab import polls
from reglab.presets import LESSONS
from reglab.store.records import RunRecord

from tests.support import a_run


def no_epochs(run: RunRecord) -> Sequence[Any]:
    return []


def decide(question: str, runs: list[RunRecord], lesson: str = "overfitting") -> Any:
    return polls.outcome(question, runs, no_epochs, lesson)


def run(variant: str, replicate: int, status: str = "completed", **summary: Any) -> RunRecord:
    return a_run(
        id=replicate,
        name=f"{variant} #{replicate + 1}",
        variant=variant,
        replicate=replicate,
        owner="poll:1",
        epochs=10,
        status=status,
        summary=summary or None,
    )


def test_the_lowest_mean_wins_and_its_sureness_counts_the_seeds_it_won() -> None:
    losses = {"none": [0.50, 0.55, 0.52], "l2": [0.30, 0.56, 0.31], "l1": [0.60, 0.61, 0.62]}
    runs = [run(v, r, final_val_loss=x) for v, xs in losses.items() for r, x in enumerate(xs)]
    decided = decide("lowest-final-val-loss", runs)
    assert decided is not None
    assert decided["choice"] == "l2" and decided["runner_up"] == "none"
    assert decided["won"] == 2 and decided["seeds"] == 3 and not decided["clear"]
    assert abs(decided["numbers"]["l2"]["mean"] - (0.30 + 0.56 + 0.31) / 3) < 1e-12
    assert "l2 beat none on the final validation loss in 2 of 3 seeds" in decided["sureness"]


def test_the_most_zero_weights_is_the_highest_sparsity_and_a_clear_win_says_so() -> None:
    shares = {"none": [0.0, 0.0, 0.0], "l1": [0.40, 0.42, 0.41]}
    runs = [run(v, r, sparsity=x) for v, xs in shares.items() for r, x in enumerate(xs)]
    decided = decide("most-zero-weights", runs)
    assert decided is not None and decided["choice"] == "l1" and decided["clear"]
    assert decided["won"] == 3


def test_no_outcome_while_a_run_trains_and_a_tie_names_no_winner() -> None:
    training = [run("none", 0, final_val_loss=0.5), run("l2", 0, "running")]
    assert decide("lowest-final-val-loss", training) is None
    tied = [run("none", 0, final_val_loss=0.5), run("l2", 0, final_val_loss=0.5)]
    decided = decide("lowest-final-val-loss", tied)
    assert decided is not None and decided["choice"] is None and decided["tied"] == ["none", "l2"]


def test_a_poll_runs_its_lesson_with_at_least_three_seeds_and_the_epochs_asked_for() -> None:
    lesson = LESSONS["l1-vs-l2"].spec.model_copy(update={"repeats": 1})
    spec = polls.poll_spec(lesson, repeats=None, epochs=7)
    assert spec.repeats == polls.MIN_REPEATS
    assert {s.train.epochs for _, s in spec.runs()} == {7}
    assert polls.choices(spec, "most-zero-weights") == ["none", "l2", "l1", "l1-subgradient"]
    assert polls.choices(spec, "claim:2") == ["holds", "fails"]


def test_a_claim_is_judged_on_the_mean_of_its_seeds_and_on_each_seed_alone() -> None:
    # overfitting's claim 2: none's final validation loss ends at least 1.3x its lowest.
    ends = [(0.60, 0.40), (0.45, 0.40), (0.62, 0.41)]
    runs = [
        run("none", r, final_val_loss=f, best_val_loss=b, final_train_loss=0.01)
        for r, (f, b) in enumerate(ends)
    ]
    decided = decide("claim:2", runs)
    assert decided["choice"] == "holds" and decided["held"] == 2 and decided["seeds"] == 3
    assert "holds in 2 of 3" in decided["sureness"]
    assert polls.question_text("claim:2", LESSONS["overfitting"].spec.model_dump()).endswith(
        LESSONS["overfitting"].spec.claims[1]
    )


def test_a_claim_whose_runs_ended_without_numbers_is_left_undecided() -> None:
    runs = [run("none", 0, "failed"), run("none", 1, final_val_loss=0.5, best_val_loss=0.4)]
    decided = decide("claim:2", runs)
    assert decided["choice"] is None and "could not judge" in decided["sureness"]
