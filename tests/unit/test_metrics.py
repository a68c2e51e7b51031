"""The per-epoch metrics are declared once; the store's schema, its records and the cost agree."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, fields
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from reglab.events import EpochEvent
from reglab.jobs.cost import EPOCH_BYTES, epoch_bytes
from reglab.metrics import METRICS, PER_LAYER, SCALARS, Metric
from reglab.spec import ExperimentSpec
from reglab.store import tables
from reglab.store.log import EventLog
from reglab.store.records import METRIC_COLUMNS, MetricRow
from reglab.store.repo import Store
from sqlalchemy import create_engine


def migrated(tmp_path: Path) -> tuple[Store, str]:
    """A store on a real SQLite file, brought to the newest revision by Alembic."""
    path = tmp_path / "reglab.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    return store, str(path)


def test_every_number_an_epoch_event_carries_is_a_declared_metric() -> None:
    keys = {"run_id", "epoch", "type"}
    assert [f.name for f in fields(EpochEvent) if f.name not in keys] == [m.name for m in METRICS]
    assert {m.name for m in METRICS if m.optional} == {"train_acc", "val_acc"}
    assert PER_LAYER == ("grad_norms",)
    assert all(m.meaning for m in METRICS)


def test_the_migrated_epoch_table_has_one_column_per_declared_metric(tmp_path: Path) -> None:
    store, path = migrated(tmp_path)
    store.close()
    with sqlite3.connect(path) as conn:
        info = conn.execute("PRAGMA table_info(epoch_metric)").fetchall()
    columns = {name: kind for _, name, kind, *_ in info}
    assert set(columns) == {"run_id", "epoch", *(m.name for m in METRICS), "nonfinite"}
    assert {columns[name] for name in SCALARS} == {"FLOAT"}
    assert {columns[name] for name in PER_LAYER} == {"JSON"}


def test_the_tables_the_store_maps_are_exactly_what_the_migrations_built(tmp_path: Path) -> None:
    # A metric declared without its migration (or a migration without its declaration) shows
    # here as a column added or removed; types and nullability are compared too.
    store, path = migrated(tmp_path)
    store.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), tables.Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_stored_epoch_reads_back_every_declared_metric(tmp_path: Path) -> None:
    store, _ = migrated(tmp_path)
    experiment, _ = store.create_experiment(
        owner="ada", spec=ExperimentSpec.model_validate({"name": "one"})
    )
    run = experiment.runs[0].id
    said = EpochEvent(run, 1, 0.5, float("nan"), None, None, 0.1, 2.0, 1.0, 0.25, [0.3], 0.01, 1.5)
    EventLog(store).record([said])
    [row] = store.metrics(run)
    store.close()
    assert isinstance(row, MetricRow) and METRIC_COLUMNS == SCALARS
    stored, sent = asdict(row), said.to_dict()
    assert str(stored.pop("val_loss")) == str(sent.pop("val_loss")) == "nan"
    assert stored == {k: v for k, v in sent.items() if k != "type"}


def test_a_stored_epoch_costs_more_with_every_metric_and_every_layer() -> None:
    one_more = (*METRICS, Metric("gain", "a new metric", per_layer=False, optional=False))
    assert epoch_bytes(3, one_more) > epoch_bytes(3) == EPOCH_BYTES
    assert epoch_bytes(8) > epoch_bytes(2)
    # The derived figure stays near the measured constant it replaced (1,200 bytes).
    assert 1_100 <= EPOCH_BYTES <= 1_300
