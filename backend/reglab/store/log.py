"""The event log: every committed event appended once under its cursor, with the typed rows it
changes, and read back as an experiment's stream replays it.

Its one writer is the journal (reglab/journal.py), which publishes what it appends; cursors are
numbered here, under the store's write lock, so commit order is cursor order. What comes back is
a `Logged` whose `text` is the event's JSON as stored, encoded once, without its cursor: the
journal makes the websocket frame of it (reglab.journal.frame_of); nothing here knows the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from reglab.events import EpochEvent, Event, SnapshotEvent, StatusEvent, SummaryEvent
from reglab.store import tables
from reglab.store.apply import (
    METRIC_ROW,
    apply_status,
    apply_summary,
    fields,
    metric_params,
    snapshot_text,
)
from reglab.store.codec import wire_json
from reglab.store.history import holders_of, log_of
from reglab.store.records import Logged, seal_logged
from reglab.store.sealing import sealed_experiments

if TYPE_CHECKING:
    from reglab.store.repo import Store

# The writer's statements, in SQLite's dialect (reglab's store is a SQLite file).
_METRIC_UPSERT = (
    f"INSERT INTO epoch_metric ({', '.join(METRIC_ROW)})"
    f" VALUES ({', '.join('?' * len(METRIC_ROW))})"
    " ON CONFLICT (run_id, epoch) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in METRIC_ROW[2:])
)
_SNAPSHOT_UPSERT = (
    "INSERT INTO snapshot (run_id, epoch, kind, data) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (run_id, epoch, kind) DO UPDATE SET data = excluded.data"
)
_LOG_INSERT = (
    "INSERT INTO event_log (seq, experiment_id, run_id, type, epoch, kind, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_LAST_SEQ = "SELECT seq FROM sqlite_sequence WHERE name = 'event_log'"


def _write_numbers(
    s: Session, events: Sequence[EpochEvent | SnapshotEvent]
) -> dict[int, tuple[dict[str, Any], str]]:
    """Insert (or replace: a retried event is harmless) the rows of epochs and snapshots, as
    driver parameters, past the ORM's per-row work: the writer's hot path. Returns, by id of
    each snapshot event, its message and JSON text (its data, the largest thing reglab sends,
    encoded once for the row and the wire)."""
    metrics = [metric_params(ev) for ev in events if isinstance(ev, EpochEvent)]
    snapshots: list[tuple[Any, ...]] = []
    said: dict[int, tuple[dict[str, Any], str]] = {}
    for ev in events:
        if isinstance(ev, SnapshotEvent):
            named, data = wire_json(ev.data)
            snapshots.append((ev.run_id, ev.epoch, ev.kind, data))
            said[id(ev)] = ({**fields(ev), "data": named}, snapshot_text(ev, data))
    if metrics:
        s.connection().exec_driver_sql(_METRIC_UPSERT, metrics)
    if snapshots:
        s.connection().exec_driver_sql(_SNAPSHOT_UPSERT, snapshots)
    return said


def append(
    s: Session,
    events: list[tuple[int, Event]],
    known: dict[int, tuple[dict[str, Any], str]] | None = None,
) -> list[Logged]:
    """Append (experiment, event) pairs to the log in the caller's transaction; each comes back
    with its cursor, its message and the JSON text it was stored as.

    Every event is encoded to JSON once (`known`: snapshots already encoded for their rows).
    Cursors are numbered here, from the table's AUTOINCREMENT counter, under the store's write
    lock (SQLite's one writer: a write from elsewhere since this transaction's first read fails
    it, to be retried, never renumbered).
    """
    if not events:
        return []
    connection = s.connection()
    last = connection.exec_driver_sql(_LAST_SEQ).scalar() or 0
    rows: list[tuple[Any, ...]] = []
    out: list[Logged] = []
    for seq, (experiment_id, ev) in enumerate(events, start=last + 1):
        said = None if known is None else known.get(id(ev))
        message, text = said if said is not None else wire_json(fields(ev))
        epoch, kind = getattr(ev, "epoch", None), getattr(ev, "kind", None)
        payload = None if isinstance(ev, SnapshotEvent) else text
        rows.append((seq, experiment_id, ev.run_id, ev.type, epoch, kind, payload))
        message["cursor"] = seq
        message["experiment_id"] = experiment_id
        out.append(Logged(seq, experiment_id, message, text))
    connection.exec_driver_sql(_LOG_INSERT, rows)
    return out


class EventLog:
    """One store's event log: what the journal records, and what a stream replays."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, events: Sequence[Event]) -> list[Logged]:
        """Apply events to the typed rows and the event log in one transaction.

        A status change of a run that already has a final status is ignored (and not logged):
        the first final word on a run stands. Events of unknown (deleted) runs are dropped.
        """
        if not events:
            return []
        with self.store.write_lock, self.store.transaction() as s:
            ids = {e.run_id for e in events}
            experiment_of: dict[int, int] = {
                run_id: experiment_id
                for run_id, experiment_id in s.connection().execute(
                    select(tables.Run.id, tables.Run.experiment_id).where(tables.Run.id.in_(ids))
                )
            }
            # Whole rows only for the rare status and summary events: most batches are epochs.
            changing = {e.run_id for e in events if isinstance(e, StatusEvent | SummaryEvent)}
            # Without their specs: decoding 40 students' 30 spec documents twice a lesson cost
            # more than the updates they were loaded for.
            changed = select(tables.Run).options(defer(tables.Run.spec))
            runs = (
                {r.id: r for r in s.scalars(changed.where(tables.Run.id.in_(changing)))}
                if changing
                else {}
            )
            kept: list[tuple[int, Event]] = []
            for ev in events:
                experiment_id = experiment_of.get(ev.run_id)
                if experiment_id is None:
                    continue
                if isinstance(ev, StatusEvent):
                    if not apply_status(runs[ev.run_id], ev.status, ev.message):
                        continue
                elif isinstance(ev, SummaryEvent):
                    apply_summary(runs[ev.run_id], ev)
                kept.append((experiment_id, ev))
            numbers = [ev for _, ev in kept if isinstance(ev, EpochEvent | SnapshotEvent)]
            logged = append(s, kept, _write_numbers(s, numbers))
            # The live frames of a sealed experiment's summaries go out without their private
            # numbers; the log keeps them whole, for the replay after the reveal.
            summed = {e for e, ev in kept if isinstance(ev, SummaryEvent)}
            sealed = sealed_experiments(s, summed)
            if not sealed:
                return logged
            return [seal_logged(m) if m.experiment_id in sealed else m for m in logged]

    def store_quietly(self, events: Sequence[Event]) -> None:
        """Store epochs and snapshots again without logging them: a run retrained from its
        seeds after a restart rewrites, with the same numbers, what viewers already saw."""
        numbers = [e for e in events if isinstance(e, EpochEvent | SnapshotEvent)]
        if not numbers:
            return
        with self.store.write_lock, self.store.transaction() as s:
            known = set(
                s.scalars(
                    select(tables.Run.id).where(tables.Run.id.in_({e.run_id for e in numbers}))
                )
            )
            _write_numbers(s, [e for e in numbers if e.run_id in known])

    def replay(self, experiment_id: int, *, after: int, limit: int = 500) -> list[Logged]:
        """Logged events of one experiment with cursor > `after`, oldest first.

        A run that shares another's numbers gets that run's epochs and snapshots as its own,
        at their cursors: the log is in commit order over all experiments, so merging the two
        keeps "cursor > last seen" exact. (A computation feeds at most one run per experiment,
        reglab/sharing.py, so no two messages of one experiment share a cursor.)"""
        log, snap = tables.EventLog, tables.Snapshot
        with self.store.snapshot() as s:  # the holders and the rows of one moment
            runs = s.scalars(
                select(tables.Run.id).where(tables.Run.experiment_id == experiment_id)
            ).all()
            reader = {holder: run_id for run_id, holder in holders_of(s, runs).items()}
            rows = s.execute(
                select(log, snap.data)
                .outerjoin(
                    snap,
                    (snap.run_id == log.run_id)
                    & (snap.epoch == log.epoch)
                    & (snap.kind == log.kind)
                    & (log.type == "snapshot"),
                )
                .where(log_of(experiment_id, reader), log.seq > after)
                .order_by(log.seq)
                .limit(limit)
            ).all()
            out = []
            for entry, data in rows:
                if entry.type == "snapshot":
                    message = {
                        "run_id": entry.run_id,
                        "epoch": entry.epoch,
                        "kind": entry.kind,
                        "data": data,
                        "type": "snapshot",
                    }
                else:
                    message = dict(entry.payload or {})
                # The row's run, not the payload's: rows handed to an heir keep their payload.
                message["run_id"] = (
                    entry.run_id
                    if entry.experiment_id == experiment_id
                    else reader[entry.run_id]  # a shared computation's numbers
                )
                message["cursor"] = entry.seq
                message["experiment_id"] = experiment_id
                out.append(Logged(entry.seq, experiment_id, message))
            # Asked only of a page holding a summary (most pages are epochs and snapshots).
            summed = any(m.message.get("type") == "summary" for m in out)
            if summed and sealed_experiments(s, [experiment_id]):
                return [seal_logged(m) for m in out]
            return out
