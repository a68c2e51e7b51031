"""An experiment's numbers as readers see them: epochs, snapshots and the cursor they are
complete through, each read through the run that holds a shared run's rows.

Mixed into `store.repo.Store`; the event log's view of an experiment (`log_of`) and its cursor
live here too, since the history and the log's replay (store/log.py) read them the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import ColumnElement, Text, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from reglab.store import tables
from reglab.store.codec import join_nonfinite
from reglab.store.records import METRIC_COLUMNS, MetricRow, SnapshotRecord, metric_row

# What a shared computation logs for the runs that follow it (their statuses are their own).
NUMBERS = ("epoch", "snapshot")


def holders_of(s: Session, run_ids: Iterable[int]) -> dict[int, int]:
    """Of these runs, those sharing another run's numbers: run → the run holding its rows."""
    ids = list(run_ids)
    if not ids:
        return {}
    rows = s.execute(
        select(tables.Run.id, tables.Run.shared_from).where(
            tables.Run.id.in_(ids), tables.Run.shared_from.is_not(None)
        )
    ).all()
    return {int(run_id): int(holder) for run_id, holder in rows if holder is not None}


def log_of(experiment_id: int, holders: Iterable[int]) -> ColumnElement[bool]:
    """The event-log rows an experiment's stream shows: its own, and the epochs and snapshots
    of the runs holding its shared runs' numbers."""
    log = tables.EventLog
    own = log.experiment_id == experiment_id
    held = sorted(set(holders))
    if not held:
        return own
    return or_(own, log.run_id.in_(held) & log.type.in_(NUMBERS))


def cursor_of(s: Session, experiment_id: int, holders: Iterable[int]) -> int:
    """The last event an experiment's stream shows (0 before its first)."""
    seq = s.scalar(select(func.max(tables.EventLog.seq)).where(log_of(experiment_id, holders)))
    return int(seq or 0)


class HistoryQueries:
    """Mixed into store.repo.Store: these read through its transactions."""

    def _tx(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def snapshot(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def metrics(self, run_id: int, *, after_epoch: int = 0, limit: int = 5000) -> list[MetricRow]:
        """A run's epochs: its own rows, or those of the run it shares them with."""
        m = tables.EpochMetric
        with self._tx() as s:
            holder = holders_of(s, [run_id]).get(run_id, run_id)
            rows = s.scalars(
                select(m)
                .where(m.run_id == holder, m.epoch > after_epoch)
                .order_by(m.epoch)
                .limit(limit)
            ).all()
            return [metric_row(r, run_id) for r in rows]

    def history_columns(self, experiment_id: int) -> tuple[int, dict[int, dict[str, list[Any]]]]:
        """Every epoch of every run of an experiment, one column per metric, and the cursor they
        are complete through: read in one transaction, so the rows are exactly those of the
        events logged up to that cursor (the writer commits both together). A run that shares
        its numbers gets those of the run holding them, and the cursor counts that run's log.

        Read as plain columns (no ORM objects), the JSON columns as text: a 30-run experiment of
        2,000 epochs is 60,000 rows, and per-row objects and JSON decoding took seconds of the
        page's wait to open it. All gradient norms of a run are decoded in one call."""
        m = tables.EpochMetric.__table__.c
        picked: list[ColumnElement[Any]] = [m.run_id, m.epoch]
        picked += [m[name] for name in METRIC_COLUMNS]
        picked += [type_coerce(m.grad_norms, Text), type_coerce(m.nonfinite, Text)]
        with self.snapshot() as s:
            runs = s.scalars(
                select(tables.Run.id).where(tables.Run.experiment_id == experiment_id)
            ).all()
            holders = holders_of(s, runs)
            cursor = cursor_of(s, experiment_id, holders.values())
            readers: dict[int, list[int]] = {}
            for run_id in runs:
                readers.setdefault(holders.get(run_id, run_id), []).append(run_id)
            rows = s.execute(
                select(*picked).where(m.run_id.in_(readers)).order_by(m.run_id, m.epoch)
            ).all()
        columns: dict[int, dict[str, list[Any]]] = {}
        names = ("run_id", "epoch", *METRIC_COLUMNS, "grad_norms", "nonfinite")
        start = 0
        while start < len(rows):  # rows come by run: transpose each run's block at C speed
            run_id, end = rows[start][0], start
            while end < len(rows) and rows[end][0] == run_id:
                end += 1
            run = dict(zip(names, map(list, zip(*rows[start:end], strict=True)), strict=True))
            run.pop("run_id")
            for i, special in enumerate(run.pop("nonfinite")):
                if special is not None:  # NaN/±Inf, named in the row's map
                    for name, value in join_nonfinite({}, json.loads(special)).items():
                        run[name][i] = value
            texts = [t or "null" for t in run["grad_norms"]]
            run["grad_norms"] = json.loads(f"[{','.join(texts)}]")  # one decode per run
            columns[run_id] = run
            start = end
        shared = {
            reader: columns[holder]
            for holder, reading in readers.items()
            if holder in columns
            for reader in reading
        }
        return cursor, shared

    def history_cursor(self, experiment_id: int) -> int:
        """The cursor `history_columns` would return now, without reading a row of numbers: a
        finished experiment's history changes only if this does."""
        with self._tx() as s:
            runs = s.scalars(
                select(tables.Run.id).where(tables.Run.experiment_id == experiment_id)
            ).all()
            return cursor_of(s, experiment_id, holders_of(s, runs).values())

    def snapshots(
        self, run_id: int, *, kind: str | None = None, epoch: int | None = None
    ) -> list[SnapshotRecord]:
        """A run's snapshots: its own, or those of the run it shares its numbers with."""
        snap = tables.Snapshot
        with self._tx() as s:
            where = [snap.run_id == holders_of(s, [run_id]).get(run_id, run_id)]
            if kind is not None:
                where.append(snap.kind == kind)
            if epoch is not None:
                where.append(snap.epoch == epoch)
            rows = s.scalars(select(snap).where(*where).order_by(snap.epoch, snap.kind)).all()
            return [SnapshotRecord(run_id, r.epoch, r.kind, r.data) for r in rows]
