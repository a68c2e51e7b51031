"""The store seals a challenge's runs until the reveal, in every record it hands out (runs,
experiments, live and replayed summaries) and in no other experiment; its migration goes down
and up again without losing a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from reglab.events import StatusEvent
from reglab.spec import RunSpec
from reglab.store.log import EventLog
from reglab.store.records import WITHHELD, RunRecord
from reglab.store.repo import _MIGRATIONS, Store
from unit.test_store import SPEC, summary


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'reglab.db'}")


def challenge(store: Store) -> int:
    made = store.create_challenge(
        title="t", description="", lesson=None, owner="teacher",
        base=RunSpec().model_dump(mode="json"), open=["regularization.l2"], repeats=1,
        max_entries=1, max_epochs=200, metric="accuracy",
    )  # fmt: skip
    return made.id


def sealed(run: RunRecord) -> bool:
    assert run.summary is not None
    hidden = run.summary["test_loss"] is None and run.summary["test_acc"] is None
    return hidden and run.summary["extra"]["withheld"] == WITHHELD


def test_a_challenge_run_is_sealed_everywhere_until_the_reveal(store: Store) -> None:
    ours = challenge(store)
    entry, _ = store.create_experiment(owner="ada", spec=SPEC, tag=(ours, "entry"))
    other, _ = store.create_experiment(owner="ada", spec=SPEC)
    run, free = entry.runs[0].id, other.runs[0].id
    live = EventLog(store).record([StatusEvent(run, "running"), summary(run), summary(free)])
    said = {m.message["run_id"]: m.message for m in live if m.message["type"] == "summary"}
    assert said[run]["test_loss"] is None and said[run]["extra"]["withheld"] == WITHHELD
    assert said[free]["test_loss"] == 0.41 and "withheld" not in said[free]["extra"]

    assert sealed(store.get_run(run)) and not sealed(store.get_run(free))
    assert sealed(store.get_experiment(entry.id).runs[0])
    listed, _ = store.list_experiments(owner="ada", lesson=None, offset=0, limit=10)
    assert [sealed(e.runs[0]) for e in listed] == [False, True]  # newest first
    runs, _ = store.list_runs(experiment_id=entry.id)
    assert sealed(runs[0])
    replayed = [m.message for m in EventLog(store).replay(entry.id, after=0)]
    assert [m["test_loss"] for m in replayed if m["type"] == "summary"] == [None]
    _, board = store.challenge_with_experiments(ours)
    assert sealed(board[0].runs[0])
    # The one unsealed reader: what sharing copies into another run's row.
    assert store.find_finished([entry.runs[0].fingerprint or ""])

    store.mark_challenge(ours, "revealed_at")
    assert store.get_run(run).summary["test_loss"] == 0.41  # type: ignore[index]
    replayed = [m.message for m in EventLog(store).replay(entry.id, after=0)]
    assert [m["test_acc"] for m in replayed if m["type"] == "summary"] == [0.8]


def test_the_challenges_migration_goes_down_and_up_keeping_every_run(store: Store) -> None:
    ours = challenge(store)
    entry, _ = store.create_experiment(owner="ada", spec=SPEC, tag=(ours, "entry"))
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    again = store.get_experiment(entry.id)
    assert [r.id for r in again.runs] == [r.id for r in entry.runs]
    assert again.challenge_id is None  # the tag went with the column
    assert store.list_challenges() == []
