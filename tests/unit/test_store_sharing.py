"""Identical runs computed once, at the store: a run sharing a computation reads the rows of the
run holding its numbers (written once), streams them at their cursors, and keeps them when that
run is deleted or cancelled. Real SQLite files; the Sharing router without a server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from reglab.events import Event, RunStatus, SnapshotEvent, StatusEvent
from reglab.journal import Journal
from reglab.live import Hub
from reglab.sharing import Sharing
from reglab.store.log import EventLog
from reglab.store.records import ExperimentRecord
from reglab.store.repo import Store
from unit.test_store import SPEC, epoch, old_database, summary


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'reglab.db'}")


def record(store: Store, sharing: Sharing, events: Sequence[Event]) -> None:
    EventLog(store).record(sharing.expand(events))


def train(store: Store, sharing: Sharing, runs: ExperimentRecord, epochs: range) -> None:
    """What a worker training `runs` says for these epochs (a snapshot every other epoch)."""
    for n in epochs:
        record(store, sharing, [epoch(r.id, n, loss=1 / n + r.position) for r in runs.runs])
        shots = [SnapshotEvent(r.id, n, "weights", {"n": n}) for r in runs.runs if n % 2 == 0]
        record(store, sharing, shots)


def submit(store: Store, sharing: Sharing, owner: str) -> tuple[ExperimentRecord, list[int]]:
    experiment, _ = store.create_experiment(owner=owner, spec=SPEC)
    fresh, said = sharing.join(experiment.runs)
    EventLog(store).record(said)
    return store.get_experiment(experiment.id), [r.id for r in fresh]


def numbers(store: Store, run_id: int) -> list[tuple[int, float | None]]:
    return [(m.epoch, m.train_loss) for m in store.metrics(run_id)]


def streamed(store: Store, experiment_id: int) -> dict[int, list[tuple[str, int]]]:
    """Each run's epochs and snapshots as the experiment's stream replays them from cursor 0."""
    out: dict[int, list[tuple[str, int]]] = {}
    cursors = []
    for entry in EventLog(store).replay(experiment_id, after=0, limit=10_000):
        cursors.append(entry.seq)
        message = entry.message
        assert message["experiment_id"] == experiment_id
        if message["type"] in ("epoch", "snapshot"):
            out.setdefault(message["run_id"], []).append((message["type"], message["epoch"]))
    assert cursors == sorted(set(cursors)), "one message per cursor, in order"
    return out


def rows(store: Store, table: str) -> int:
    with sqlite3.connect(store.engine.url.database or "") as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_follower_reads_the_numbers_written_once_and_streams_them(store: Store) -> None:
    sharing = Sharing(store, enabled=True)
    first, fresh = submit(store, sharing, "ada")
    assert fresh == [r.id for r in first.runs]
    record(store, sharing, [StatusEvent(r.id, RunStatus.RUNNING) for r in first.runs])
    train(store, sharing, first, range(1, 4))
    second, fresh = submit(store, sharing, "bob")
    assert fresh == []
    assert [r.shared_from for r in second.runs] == [r.id for r in first.runs]
    assert [r.status for r in second.runs] == ["running", "running"]
    train(store, sharing, first, range(4, 6))
    record(store, sharing, [summary(r.id) for r in first.runs])

    assert rows(store, "epoch_metric") == 2 * 5  # not once per student
    for mine, theirs in zip(store.get_experiment(second.id).runs, first.runs, strict=True):
        assert mine.status == "completed"
        assert mine.summary is not None and mine.summary["extra"]["shared_from"] == theirs.id
        assert numbers(store, mine.id) == numbers(store, theirs.id)
        assert [m.run_id for m in store.metrics(mine.id)] == [mine.id] * 5
        assert [s.epoch for s in store.snapshots(mine.id)] == [2, 4]
    expected = [("epoch", 1), ("epoch", 2), ("snapshot", 2), ("epoch", 3), ("epoch", 4)]
    expected += [("snapshot", 4), ("epoch", 5)]
    assert streamed(store, second.id) == {r.id: expected for r in second.runs}
    assert streamed(store, first.id) == {r.id: expected for r in first.runs}
    cursor, columns = store.history_columns(second.id)
    assert cursor == max(e.seq for e in EventLog(store).replay(second.id, after=0, limit=10_000))
    _, theirs = store.history_columns(first.id)
    assert sorted(columns) == [r.id for r in second.runs]
    assert list(columns.values()) == list(theirs.values())


def test_a_finished_computation_is_served_and_survives_its_holders_deletion(
    store: Store,
) -> None:
    sharing = Sharing(store, enabled=True)
    first, _ = submit(store, sharing, "ada")
    train(store, sharing, first, range(1, 5))
    record(store, sharing, [summary(r.id) for r in first.runs])
    served, fresh = submit(store, sharing, "bob")
    later, _ = submit(store, sharing, "cy")
    assert fresh == [] and all(r.status == "completed" for r in served.runs + later.runs)
    # Served from the run that computed it, not from the newer copy that points there.
    assert [r.shared_from for r in later.runs] == [r.id for r in first.runs]
    before = {r.id: numbers(store, r.id) for r in served.runs + later.runs}
    assert len(before[served.runs[0].id]) == 4

    store.delete_experiment(first.id)
    for run in served.runs + later.runs:
        assert numbers(store, run.id) == before[run.id]
    heirs = store.get_experiment(served.id).runs
    assert [r.shared_from for r in heirs] == [None, None]
    assert [r.shared_from for r in store.get_experiment(later.id).runs] == [r.id for r in heirs]
    assert all(len(v) == 6 for v in streamed(store, served.id).values())
    assert all(len(v) == 6 for v in streamed(store, later.id).values())
    store.delete_experiment(served.id)  # and once more, to the last one
    assert all(numbers(store, r.id) == before[r.id] for r in later.runs)
    assert rows(store, "epoch_metric") == 2 * 4


def test_the_holder_cancelled_keeps_its_rows_and_a_follower_holds_the_rest(store: Store) -> None:
    sharing = Sharing(store, enabled=True)
    first, _ = submit(store, sharing, "ada")
    record(store, sharing, [StatusEvent(r.id, RunStatus.RUNNING) for r in first.runs])
    train(store, sharing, first, range(1, 3))
    second, _ = submit(store, sharing, "bob")
    source, follower = first.runs[0].id, second.runs[0].id
    detached, stop = sharing.detach([source])
    assert (detached, stop) == ({source}, set())
    EventLog(store).record([StatusEvent(source, RunStatus.CANCELLED, "bye", last=True)])
    train(store, sharing, first, range(3, 5))  # the worker still speaks as the source
    record(store, sharing, [summary(r.id) for r in first.runs])
    assert [e for e, _ in numbers(store, source)] == [1, 2]
    assert [e for e, _ in numbers(store, follower)] == [1, 2, 3, 4]
    assert store.get_run(follower).status == "completed"
    assert store.get_run(source).status == "cancelled"
    assert [t for t, _ in streamed(store, second.id)[follower]].count("epoch") >= 4


def test_a_computation_feeds_one_run_per_experiment(store: Store) -> None:
    again = SPEC.variants[0].model_copy(update={"name": "none again"})
    twice = SPEC.model_copy(update={"variants": [SPEC.variants[0], again]})
    sharing = Sharing(store, enabled=True)
    experiment, _ = store.create_experiment(owner="ada", spec=twice)
    assert experiment.runs[0].fingerprint == experiment.runs[1].fingerprint
    fresh, said = sharing.join(experiment.runs)
    assert len(fresh) == 2 and said == []  # both train (one lockstep member more, no confusion)


def test_migration_drops_copies_that_pointers_replace_and_keeps_the_rest(tmp_path: Path) -> None:
    url = old_database(tmp_path / "old.db", "0004")
    with sqlite3.connect(tmp_path / "old.db") as conn:
        for _ in range(3):
            conn.execute(
                "INSERT INTO experiment (name, description, owner, spec, created_at) "
                "VALUES ('old', '', 'ada', '{}', '2026-01-01 00:00:00')"
            )
        # run 1 computed; run 2 a copy of it; run 3 a copy of a run deleted since (99)
        for run_id, experiment_id, shared in ((1, 1, None), (2, 2, 1), (3, 3, 99)):
            conn.execute(
                "INSERT INTO run (id, experiment_id, position, name, variant, replicate, owner, "
                "spec, epochs, status, created_at, shared_from) VALUES "
                "(?, ?, 0, 'r', 'r', 0, 'ada', '{}', 2, 'completed', '2026-01-01', ?)",
                (run_id, experiment_id, shared),
            )
            for n in (1, 2):
                conn.execute(
                    "INSERT INTO epoch_metric (run_id, epoch, train_loss, grad_norms) "
                    "VALUES (?, ?, ?, '[]')",
                    (run_id, n, n / 10),
                )
                conn.execute(
                    "INSERT INTO event_log (experiment_id, run_id, type, epoch, payload) "
                    "VALUES (?, ?, 'epoch', ?, ?)",
                    (experiment_id, run_id, n, f'{{"type": "epoch", "run_id": {run_id}}}'),
                )
    store = Store(url)
    assert [store.get_run(i).shared_from for i in (1, 2, 3)] == [None, 1, None]
    assert rows(store, "epoch_metric") == 4  # run 2's copy went; run 3 keeps its own
    for run_id in (1, 2, 3):
        assert numbers(store, run_id) == [(1, 0.1), (2, 0.2)]
    assert [e.message["run_id"] for e in EventLog(store).replay(2, after=0)] == [2, 2]


def test_a_followers_live_frames_come_in_cursor_order_its_summary_last(store: Store) -> None:
    """Its computation's last epoch and its own summary, recorded in one batch: the relabeled
    epoch (an older cursor) must reach its stream first, or the stream, which sends only
    cursors above the last it sent, would drop it."""
    recorder = Journal(store, Hub(), share_runs=True)
    first = recorder.create_experiment(owner="ada", spec=SPEC)
    recorder.share(first.runs)
    recorder.record([StatusEvent(r.id, RunStatus.RUNNING) for r in first.runs])
    second = recorder.create_experiment(owner="bob", spec=SPEC)
    assert recorder.share(second.runs) == []

    async def watch() -> list[dict[str, Any]]:
        subscription = recorder.hub.subscribe(second.id)
        batch = [epoch(r.id, 1) for r in first.runs] + [summary(r.id) for r in first.runs]
        await asyncio.to_thread(recorder.record, batch)
        frames = []
        while len(frames) < 4:
            frame = await asyncio.wait_for(subscription.get(), 5)
            frames.append(json.loads(frame.text))
        return frames

    frames = asyncio.run(watch())
    assert [f["cursor"] for f in frames] == sorted(f["cursor"] for f in frames)
    assert [f["type"] for f in frames] == ["epoch", "epoch", "summary", "summary"]
    assert {f["run_id"] for f in frames} == {r.id for r in second.runs}


def test_live_frames_go_only_to_watched_followers_asking_once_per_experiment(
    store: Store,
) -> None:
    """A class following one lesson: whether anyone watches is asked once per experiment and
    batch (not per event and follower), and only watched experiments get relabeled frames."""
    sharing = Sharing(store, enabled=True)
    first, fresh = submit(store, sharing, "ada")
    EventLog(store).record([StatusEvent(run_id, RunStatus.RUNNING) for run_id in fresh])
    followers = [submit(store, sharing, f"s{i}")[0] for i in range(3)]
    asked: list[int] = []

    def watched(experiment_id: int) -> bool:
        asked.append(experiment_id)
        return experiment_id == followers[1].id

    readers = sharing.live_readers()
    logged = EventLog(store).record(
        sharing.expand([epoch(r.id, n) for r in first.runs for n in (1, 2)])
    )
    frames = sharing.read_live(logged, watched, readers)
    assert sorted(asked) == sorted(f.id for f in followers)
    assert {f.experiment_id for f in frames} == {followers[1].id}
    assert sorted((f.message["run_id"], f.message["epoch"]) for f in frames) == sorted(
        (r.id, n) for r in followers[1].runs for n in (1, 2)
    )
    assert sharing.read_live(logged, lambda _: False, readers) == []
