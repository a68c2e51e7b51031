"""The dropout-ensemble lesson's claims judged as a class poll judges them: from stored runs'
summaries, whose `extra.ensemble` holds each run's last thinned-nets numbers."""

from __future__ import annotations

from typing import Any

from reglab import polls
from reglab.store.records import RunRecord

from tests.support import a_run

SIZES = [1, 4, 16, 64, 256]


def run(variant: str, replicate: int, ensemble: dict[str, Any] | None) -> RunRecord:
    summary = {"final_val_loss": 0.1, "best_val_loss": 0.1, "final_train_loss": 0.1}
    return a_run(
        id=10 * replicate + len(variant),
        position=0 if variant == "dropout" else 1,
        name=f"{variant} #{replicate + 1}",
        variant=variant,
        replicate=replicate,
        owner="poll:1",
        epochs=100,
        summary=summary | {"extra": {} if ensemble is None else {"ensemble": ensemble}},
    )


def numbers(diff: list[float], exact: float = 4e-7) -> dict[str, Any]:
    return {
        "sizes": SIZES,
        "diff": diff,
        "val_full": 0.09,
        "val_average": [0.14, 0.095, 0.087, 0.085, 0.084],
        "exact_max_diff": exact,
        "exact_masks": 4,
    }


def decide(question: str, runs: list[RunRecord]) -> Any:
    return polls.outcome(question, runs, lambda r: [], "dropout-ensemble")


def test_a_poll_judges_the_falling_difference_on_each_seed_from_the_stored_numbers() -> None:
    falling, rising_at_the_end = [0.06, 0.03, 0.02, 0.015, 0.014], [0.06, 0.03, 0.02, 0.01, 0.011]
    runs = [run("dropout", r, numbers(d)) for r, d in enumerate([falling, falling])]
    runs.append(run("dropout", 2, numbers(rising_at_the_end)))
    runs += [run("linear", r, numbers([0.2, 0.1, 0.05, 0.02, 0.01])) for r in range(3)]
    decided = decide("claim:1", runs)
    assert decided["seeds"] == 3 and decided["held"] == 2
    assert decide("claim:5", runs)["choice"] == "holds"


def test_runs_without_thinned_nets_numbers_leave_the_claim_undecided() -> None:
    runs = [run("dropout", r, None) for r in range(3)] + [run("linear", r, None) for r in range(3)]
    decided = decide("claim:5", runs)
    assert decided["choice"] is None and "could not judge" in decided["sureness"]
