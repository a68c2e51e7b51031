"""The journal on a real SQLite file: where an event becomes a frame, the same frame whether a
stream gets it live or replays it, and the log policy deciding what is logged."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from reglab.events import EpochEvent, Event, RunStatus, SnapshotEvent, StatusEvent
from reglab.journal import Journal
from reglab.live import Frame, Hub
from reglab.store.repo import Store
from unit.test_store import SPEC, epoch, summary


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(Store(f"sqlite:///{tmp_path / 'reglab.db'}"), Hub(), share_runs=False)


def test_a_stream_is_sent_live_the_same_frames_it_replays(journal: Journal) -> None:
    experiment = journal.create_experiment(owner="ada", spec=SPEC)
    run = experiment.runs[0].id
    grid = {"x": [0.0, 1.0], "z": [[math.nan, 0.5]]}
    said: list[Event] = [
        StatusEvent(run, RunStatus.RUNNING),
        epoch(run, 1, loss=math.inf),
        SnapshotEvent(run, 1, "boundary", grid),
        summary(run),
    ]
    queued = journal.page(experiment.id, after=0, limit=100)

    async def watch() -> list[Frame]:
        subscription = journal.hub.subscribe(experiment.id)
        await asyncio.to_thread(journal.record, said)
        frames = []
        for _ in said:
            frame = await asyncio.wait_for(subscription.get(), 5)
            assert frame is not None
            frames.append(frame)
        return frames

    live = asyncio.run(watch())
    replayed = journal.page(experiment.id, after=queued[-1].cursor, limit=100)
    assert [f.cursor for f in live] == [f.cursor for f in replayed]
    assert [json.loads(f.text) for f in live] == [json.loads(f.text) for f in replayed]
    assert [f.snapshot_of for f in live] == [None, None, run, None]
    first: dict[str, Any] = json.loads(live[1].text)
    assert first["cursor"] == live[1].cursor and first["experiment_id"] == experiment.id
    assert first["train_loss"] == "Infinity"  # strict JSON on the wire, both ways


def test_the_log_policy_says_what_is_logged_and_the_rest_is_stored_quietly(
    journal: Journal,
) -> None:
    """A retrained run's first epochs were seen already: stored again, not logged again."""
    experiment = journal.create_experiment(owner="ada", spec=SPEC)
    run = experiment.runs[0].id
    asked: list[tuple[str, int]] = []

    def seen_up_to_two(group_id: str, event: Event) -> Event | None:
        asked.append((group_id, getattr(event, "epoch", 0)))
        if isinstance(event, EpochEvent) and event.epoch <= 2:
            return None
        return event

    journal.policy = seen_up_to_two
    journal.take([("g1", epoch(run, n, loss=n / 10)) for n in (1, 2, 3)])
    assert asked == [("g1", 1), ("g1", 2), ("g1", 3)]
    assert [(m.epoch, m.train_loss) for m in journal.store.metrics(run)] == [
        (1, 0.1),
        (2, 0.2),
        (3, 0.3),
    ]
    logged = [json.loads(f.text) for f in journal.page(experiment.id, after=0, limit=100)]
    assert [m["epoch"] for m in logged if m["type"] == "epoch"] == [3]


class FailingHub(Hub[Frame]):
    """A hub that cannot publish (the one thing isolated: a step after the commit failing)."""

    def publish(self, items: Any) -> None:
        raise RuntimeError("the loop is gone")


def test_a_batch_whose_publish_fails_after_its_commit_is_logged_once(tmp_path: Path) -> None:
    # Retrying the whole record would log the epochs again under new cursors: every viewer
    # resuming from a cursor would then get each of them twice.
    store = Store(f"sqlite:///{tmp_path / 'reglab.db'}")
    experiment = Journal(store, Hub(), share_runs=False).create_experiment(owner="ada", spec=SPEC)
    run = experiment.runs[0].id
    failing = Journal(store, FailingHub(), share_runs=False)
    failing.take([("g1", epoch(run, n, loss=n / 10)) for n in (1, 2)])
    logged = [json.loads(f.text) for f in failing.page(experiment.id, after=0, limit=100)]
    assert [m["epoch"] for m in logged if m["type"] == "epoch"] == [1, 2]
