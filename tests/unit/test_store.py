"""The store on a real SQLite file: schema, runs, metrics, NaN/Inf, event log and replay."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from reglab.errors import NotFound
from reglab.events import EpochEvent, SnapshotEvent, StatusEvent, SummaryEvent
from reglab.spec import ExperimentSpec
from reglab.store.log import EventLog
from reglab.store.repo import _MIGRATIONS, Store
from sqlalchemy import create_engine


def epoch(run_id: int, n: int, loss: float = 0.5) -> EpochEvent:
    return EpochEvent(
        run_id=run_id,
        epoch=n,
        train_loss=loss,
        val_loss=loss + 0.1,
        train_acc=0.9,
        val_acc=0.8,
        lr=0.01,
        weight_l1=3.0,
        weight_l2=1.0,
        sparsity=0.0,
        grad_norms=[0.1, 0.2],
        step_size=0.001,
        seconds=0.01 * n,
    )


def summary(run_id: int, best: float = 0.3) -> SummaryEvent:
    return SummaryEvent(
        run_id=run_id,
        status="completed",
        epochs_run=3,
        best_epoch=2,
        best_val_loss=best,
        final_train_loss=0.2,
        final_val_loss=0.4,
        test_loss=0.41,
        test_acc=0.8,
        gap=0.2,
        sparsity=0.0,
        seconds=1.0,
    )


SPEC = ExperimentSpec.model_validate(
    {
        "name": "two",
        "variants": [
            {"name": "none"},
            {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
        ],
    }
)


def old_database(path: Path, revision: str) -> str:
    """A database file at an earlier schema revision, as an older reglab left it; its URL."""
    url = f"sqlite:///{path}"
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()
    return url


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'sub' / 'reglab.db'}")


def test_new_store_creates_its_file_in_wal_mode(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "reglab.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"experiment", "run", "epoch_metric", "snapshot", "event_log"} <= tables


def test_migrating_twice_is_harmless(store: Store) -> None:
    store.migrate()
    store.create_experiment(owner="ada", spec=SPEC)
    store.migrate()
    assert store.list_experiments(owner=None, lesson=None, offset=0, limit=10)[1] == 1


def test_created_experiment_has_queued_runs_in_variant_order(store: Store) -> None:
    exp, logged = store.create_experiment(owner="ada", spec=SPEC)
    assert [r.name for r in exp.runs] == ["none", "l2"]
    assert {r.status for r in exp.runs} == {"queued"}
    assert exp.runs[1].spec["regularization"]["l2"] == 0.01
    assert [m.message["status"] for m in logged] == ["queued", "queued"]
    assert store.get_experiment(exp.id).status == "queued"


def test_missing_experiment_and_run_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="experiment 99"):
        store.get_experiment(99)
    with pytest.raises(NotFound, match="run 7"):
        store.get_run(7)


def test_epoch_events_become_metric_rows_and_retries_upsert(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    run = exp.runs[0].id
    EventLog(store).record([epoch(run, 1), epoch(run, 2)])
    EventLog(store).record([epoch(run, 2, loss=0.25)])  # a retried epoch replaces, never duplicates
    rows = store.metrics(run)
    assert [r.epoch for r in rows] == [1, 2]
    assert rows[1].train_loss == 0.25
    assert [r.epoch for r in store.metrics(run, after_epoch=1)] == [2]


def test_nan_and_inf_are_stored_explicitly(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    run = exp.runs[0].id
    EventLog(store).record([epoch(run, 1, loss=math.nan), epoch(run, 2, loss=math.inf)])
    EventLog(store).record([summary(run, best=-math.inf)])
    first, second = store.metrics(run)
    assert math.isnan(first.train_loss or 0.0)
    assert second.train_loss == math.inf and second.val_loss == math.inf
    assert store.get_run(run).summary["best_val_loss"] == -math.inf  # type: ignore[index]


def test_history_columns_are_each_runs_metric_rows_nan_and_inf_included(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    one, two = (r.id for r in exp.runs)
    EventLog(store).record([epoch(one, n, loss=1 / n) for n in range(1, 5)])
    EventLog(store).record(
        [epoch(two, 1, loss=math.nan), epoch(two, 2, loss=-math.inf), epoch(two, 3)]
    )
    cursor, columns = store.history_columns(exp.id)
    assert cursor == max(e.seq for e in EventLog(store).replay(exp.id, after=0))
    assert sorted(columns) == [one, two]
    for run_id, run in columns.items():
        rows = store.metrics(run_id)
        assert run["epoch"] == [m.epoch for m in rows]
        assert run["grad_norms"] == [m.grad_norms for m in rows]
        for name in ("train_loss", "val_loss", "train_acc", "lr", "step_size", "seconds"):
            # repr: NaN equals itself only as text
            assert [repr(v) for v in run[name]] == [repr(getattr(m, name)) for m in rows], name
    assert math.isnan(columns[two]["train_loss"][0]) and columns[two]["val_loss"][1] == -math.inf


def test_first_final_status_stands(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    run = exp.runs[0].id
    logged = EventLog(store).record(
        [StatusEvent(run, "running"), StatusEvent(run, "cancelled", "asked")]
    )
    late = EventLog(store).record([StatusEvent(run, "failed", "late"), StatusEvent(run, "running")])
    got = store.get_run(run)
    assert (got.status, got.message) == ("cancelled", "asked")
    assert got.started_at is not None and got.finished_at is not None
    assert len(logged) == 2 and late == []


def test_summary_fills_columns_and_final_status(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    run = exp.runs[1].id
    EventLog(store).record([StatusEvent(run, "running"), summary(run)])
    got = store.get_run(run)
    assert got.status == "completed"
    assert got.summary is not None and got.summary["best_epoch"] == 2


def test_replay_returns_events_after_cursor_in_order_with_snapshots(store: Store) -> None:
    exp, queued = store.create_experiment(owner="ada", spec=SPEC)
    run = exp.runs[0].id
    grid = {"z": [[0.1, math.nan]]}
    logged = EventLog(store).record(
        [epoch(run, 1), SnapshotEvent(run, 1, "boundary", grid), epoch(run, 2)]
    )
    replayed = EventLog(store).replay(exp.id, after=queued[-1].seq)
    assert [m.seq for m in replayed] == [m.seq for m in logged]
    assert [m.message for m in replayed] == [m.message for m in logged]
    assert replayed[1].message["data"] == {"z": [[0.1, "NaN"]]}
    assert EventLog(store).replay(exp.id, after=logged[-1].seq) == []
    cursors = [m.message["cursor"] for m in EventLog(store).replay(exp.id, after=0)]
    assert cursors == sorted(cursors) and len(cursors) == 5


def test_events_of_deleted_runs_are_dropped(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    store.delete_experiment(exp.id)
    assert EventLog(store).record([epoch(exp.runs[0].id, 1)]) == []
    with pytest.raises(NotFound):
        store.delete_experiment(exp.id)


def test_user_load_counts_only_unfinished_work(store: Store) -> None:
    exp, _ = store.create_experiment(owner="ada", spec=SPEC)
    store.create_experiment(owner="bob", spec=SPEC)
    EventLog(store).record([StatusEvent(exp.runs[0].id, "completed")])
    load = store.user_load("ada")
    assert (load.experiments, load.runs, load.member_epochs) == (1, 1, 200)


def test_list_filters_by_owner_and_lesson_and_paginates(store: Store) -> None:
    for owner in ["ada", "bob", "ada"]:
        store.create_experiment(owner=owner, spec=SPEC)
    lesson = SPEC.model_copy(update={"lesson": "overfitting"})
    store.create_experiment(owner="ada", spec=lesson)
    items, total = store.list_experiments(owner="ada", lesson=None, offset=0, limit=2)
    assert total == 3 and [e.id for e in items] == [4, 3]
    items, total = store.list_experiments(owner=None, lesson="overfitting", offset=0, limit=10)
    assert total == 1 and items[0].lesson == "overfitting"
    runs, total = store.list_runs(owner="bob", statuses=["queued"])
    assert total == 2 and {r.owner for r in runs} == {"bob"}


def test_runs_stored_before_repeats_become_the_one_replicate_of_their_variant(
    tmp_path: Path,
) -> None:
    url = old_database(tmp_path / "old.db", "0001")
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute(
            "INSERT INTO experiment (name, description, owner, spec, created_at) "
            "VALUES ('old', '', 'ada', '{}', '2026-01-01 00:00:00')"
        )
        conn.execute(
            "INSERT INTO run (experiment_id, position, name, owner, spec, epochs, status, "
            "created_at) VALUES (1, 0, 'l2', 'ada', '{}', 5, 'completed', '2026-01-01 00:00:00')"
        )
    run = Store(url).get_experiment(1).runs[0]
    assert (run.name, run.variant, run.replicate) == ("l2", "l2", 0)


def test_a_repeated_experiment_stores_each_replicate_with_its_variant(store: Store) -> None:
    spec = SPEC.model_copy(update={"repeats": 2})
    experiment, _ = store.create_experiment(owner="ada", spec=spec)
    assert [(r.name, r.variant, r.replicate) for r in experiment.runs] == [
        ("none #1", "none", 0),
        ("none #2", "none", 1),
        ("l2 #1", "l2", 0),
        ("l2 #2", "l2", 1),
    ]
    seeds = [r.spec["train"]["seed"] for r in experiment.runs]
    assert seeds[0] == seeds[2] != seeds[1] == seeds[3]
