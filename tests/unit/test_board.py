"""The board's ranks and ties from run records: a clear difference over seeds ranks apart, seed
noise ties, one seed proves nothing, and loss ranks low first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reglab.board import leaderboard
from reglab.spec import RunSpec
from reglab.store.challenges import ChallengeRecord
from reglab.store.records import ExperimentRecord, RunRecord

from tests.support import a_run

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BASE = RunSpec().model_dump(mode="json")


def challenge(metric: str = "accuracy", revealed: bool = False) -> ChallengeRecord:
    return ChallengeRecord(
        id=1, title="t", description="", lesson=None, owner="teacher", base=BASE,
        open=["regularization.l2"], repeats=3, max_entries=2, max_epochs=200, metric=metric,
        created_at=NOW, closed_at=NOW if revealed else None,
        revealed_at=NOW if revealed else None,
    )  # fmt: skip


def run(i: int, seed: int, public: float, private: float | None, l2: float) -> RunRecord:
    spec: dict[str, Any] = RunSpec.model_validate(
        {"regularization": {"l2": l2}, "model": {"init_seed": seed}, "train": {"seed": seed}}
    ).model_dump(mode="json")
    summary = {
        "final_val_loss": 0.5, "test_acc": private, "test_loss": private,
        "extra": {"public_acc": public, "public_loss": public},
    }  # fmt: skip
    return a_run(
        id=i,
        experiment_id=0,
        position=seed,
        replicate=seed,
        owner="x",
        spec=spec,
        at=NOW,
        summary=summary,
    )


def entry(
    eid: int, owner: str, publics: list[float], privates: list[float], l2: float = 0.0
) -> ExperimentRecord:
    runs = [
        run(eid * 10 + k, k, p, q, l2)
        for k, (p, q) in enumerate(zip(publics, privates, strict=True))
    ]
    return ExperimentRecord(
        id=eid, name=f"e{eid}", description="", lesson=None, owner=owner, spec={},
        created_at=NOW, runs=runs, challenge_id=1, challenge_role="entry",
    )  # fmt: skip


def rows(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["owner"]: r for r in board["rows"] if r["kind"] == "entry"}


def test_a_clear_lead_over_seeds_ranks_apart_and_seed_noise_ties() -> None:
    experiments = [
        entry(1, "ann", [0.90, 0.91, 0.92], [0.8, 0.8, 0.8], l2=0.01),
        entry(2, "bob", [0.80, 0.82, 0.81], [0.9, 0.9, 0.9]),  # clearly lower on every seed
        entry(3, "cy", [0.95, 0.86, 0.90], [0.7, 0.7, 0.7]),  # the leader's mean, noisier
    ]
    found = rows(leaderboard(challenge(), experiments, {"ann": 1, "bob": 2}))
    assert [found[o]["rank"] for o in ("ann", "cy", "bob")] == [1, 2, 3]
    assert found["bob"]["tied"] is False and found["cy"]["tied"] is True
    assert found["ann"]["tied"] is True  # the leader, tied with cy
    assert found["ann"]["changed"] == {"regularization.l2": 0.01} and found["bob"]["changed"] == {}
    assert found["ann"]["entries_left"] == 1 and found["bob"]["entries_left"] == 0
    assert all(r["private"] is None and r["rank_change"] is None for r in found.values())


def test_the_reveal_ranks_by_the_private_split_and_says_each_move() -> None:
    experiments = [
        entry(1, "ann", [0.90, 0.91, 0.92], [0.80, 0.81, 0.80]),
        entry(2, "bob", [0.80, 0.82, 0.81], [0.90, 0.91, 0.92]),
    ]
    found = rows(leaderboard(challenge(revealed=True), experiments, {}))
    assert (found["ann"]["rank"], found["ann"]["private_rank"]) == (1, 2)
    assert found["ann"]["rank_change"] == -1 and found["bob"]["rank_change"] == 1
    assert abs(found["bob"]["private"]["mean"] - 0.91) < 1e-12


def test_one_seed_proves_nothing_and_loss_ranks_low_first() -> None:
    experiments = [entry(1, "ann", [0.3], [0.3]), entry(2, "bob", [0.2], [0.2])]
    found = rows(leaderboard(challenge("loss"), experiments, {}))
    assert found["bob"]["rank"] == 1 and found["ann"]["rank"] == 2
    assert found["ann"]["tied"] is True and found["ann"]["public"]["low"] is None
