"""Every query reglab makes: the one place that writes SQL, one transaction per call."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import literal as sa_literal
from sqlalchemy.orm import Session, defer, sessionmaker

from reglab.errors import NotFound
from reglab.events import (
    EpochEvent,
    Event,
    RunStatus,
    SnapshotEvent,
    StatusEvent,
    SummaryEvent,
)
from reglab.spec import ExperimentSpec
from reglab.store import tables
from reglab.store.apply import (
    METRIC_ROW,
    apply_status,
    apply_summary,
    fields,
    metric_params,
    now,
    snapshot_text,
)
from reglab.store.challenges import ChallengeQueries
from reglab.store.codec import wire_json
from reglab.store.engine import make_engine
from reglab.store.history import NUMBERS, HistoryQueries, holders_of, log_of
from reglab.store.identities import IdentityQueries
from reglab.store.records import (
    SUMMARY_COLUMNS,
    ExperimentRecord,
    Logged,
    RunRecord,
    UserLoad,
    experiment_record,
    run_record,
    seal_logged,
)

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Runs whose numbers another identical run may be served: they trained to their own end.
SHAREABLE = (RunStatus.COMPLETED, RunStatus.STOPPED_EARLY, RunStatus.DIVERGED)


def _summary_event(run_id: int, status: RunStatus, summary: dict[str, Any]) -> SummaryEvent:
    values = {name: summary[name] for name in SUMMARY_COLUMNS}
    return SummaryEvent(run_id=run_id, status=status, extra=dict(summary["extra"]), **values)


def final_events(run: RunRecord) -> list[Event]:
    """A finished run's last words: its final status, and its summary when it has one."""
    if not run.finished:
        return []
    status = RunStatus(run.status)
    summary = run.summary
    at = None if summary is None else summary["epochs_run"]
    final: list[Event] = [StatusEvent(run.id, status, run.message, at, summary is None)]
    if summary is not None:
        final.append(_summary_event(run.id, status, summary))
    return final


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


UNFINISHED = ("queued", "running")


def sealed_experiments(s: Session, experiment_ids: Iterable[int]) -> set[int]:
    """Of these experiments, those of a challenge not yet revealed: their records are handed
    out sealed (store/records.py), this being the one test every reader passes."""
    ids = set(experiment_ids)
    if not ids:
        return set()
    e, c = tables.Experiment, tables.Challenge
    return set(
        s.scalars(
            select(e.id)
            .join(c, c.id == e.challenge_id)
            .where(e.id.in_(ids), c.revealed_at.is_(None))
        )
    )


def run_records(s: Session, rows: Sequence[tables.Run]) -> list[RunRecord]:
    """These rows as records, each sealed when its experiment is a challenge's, unrevealed."""
    sealed = sealed_experiments(s, {r.experiment_id for r in rows})
    return [run_record(r, sealed=r.experiment_id in sealed) for r in rows]


class Store(ChallengeQueries, HistoryQueries, IdentityQueries):
    """The database behind reglab: experiments, runs, their metrics, snapshots and event log
    (and challenges, store/challenges.py)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # One writer at a time inside this process: SQLite has one anyway, and the event log's
        # commit order must equal its publish order (see jobs/pump.py).
        self.write_lock = threading.RLock()
        self.migrate()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def transaction(self) -> AbstractContextManager[Session]:
        """One transaction, for the store's modules beside this one (store/classroom.py,
        store/polls.py): their queries live there, this class's stay here."""
        return self._tx()

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self, *, owner: str, spec: ExperimentSpec, tag: tuple[int, str] | None = None
    ) -> tuple[ExperimentRecord, list[Logged]]:
        """Store an experiment and its runs, all queued; returns it and the queued events.
        `tag`: (challenge, role) when it is a challenge's entry or baselines."""
        moment = now()
        with self.write_lock, self._tx() as s:
            row = tables.Experiment(
                name=spec.name,
                description=spec.description,
                lesson=spec.lesson,
                owner=owner,
                spec=spec.model_dump(mode="json"),
                created_at=moment,
                challenge_id=None if tag is None else tag[0],
                challenge_role=None if tag is None else tag[1],
            )
            s.add(row)
            s.flush()
            runs = [
                tables.Run(
                    experiment_id=row.id,
                    position=i,
                    name=planned.name or f"run {i}",
                    variant=planned.variant or f"run {i}",
                    replicate=planned.replicate,
                    fingerprint=planned.spec.fingerprint(),
                    owner=owner,
                    spec=planned.spec.model_dump(mode="json"),
                    epochs=planned.spec.train.epochs,
                    status="queued",
                    created_at=moment,
                )
                for i, planned in enumerate(spec.members())
            ]
            s.add_all(runs)
            s.flush()
            logged = self._log(s, [(row.id, StatusEvent(r.id, RunStatus.QUEUED)) for r in runs])
            return experiment_record(row, runs, tag is not None), logged

    def get_experiment(self, experiment_id: int) -> ExperimentRecord:
        with self._tx() as s:
            row = s.get(tables.Experiment, experiment_id)
            if row is None:
                raise NotFound(f"There is no experiment {experiment_id}.")
            runs = s.scalars(
                select(tables.Run)
                .where(tables.Run.experiment_id == experiment_id)
                .order_by(tables.Run.position)
            ).all()
            return experiment_record(row, list(runs), bool(sealed_experiments(s, [row.id])))

    def list_experiments(
        self, *, owner: str | None, lesson: str | None, offset: int, limit: int
    ) -> tuple[list[ExperimentRecord], int]:
        """Newest first, with their runs; and how many match in all."""
        where = []
        if owner is not None:
            where.append(tables.Experiment.owner == owner)
        if lesson is not None:
            where.append(tables.Experiment.lesson == lesson)
        with self._tx() as s:
            total = s.scalar(select(func.count()).select_from(tables.Experiment).where(*where))
            rows = s.scalars(
                select(tables.Experiment)
                .where(*where)
                .order_by(tables.Experiment.id.desc())
                .offset(offset)
                .limit(limit)
            ).all()
            runs: dict[int, list[tables.Run]] = {r.id: [] for r in rows}
            for run in s.scalars(
                select(tables.Run)
                .where(tables.Run.experiment_id.in_(runs))
                .order_by(tables.Run.position)
            ):
                runs[run.experiment_id].append(run)
            sealed = sealed_experiments(s, runs)
            return [experiment_record(r, runs[r.id], r.id in sealed) for r in rows], int(total or 0)

    def delete_experiment(self, experiment_id: int) -> dict[int, int]:
        """Delete an experiment and all it recorded. Runs of other experiments sharing the
        numbers of one of its runs keep them: the rows move to one of those runs first (its
        heir), which the others then share. Returns {deleted run: heir}."""
        with self.write_lock, self._tx() as s:
            if s.get(tables.Experiment, experiment_id) is None:
                raise NotFound(f"There is no experiment {experiment_id}.")
            run = tables.Run
            ours = select(run.id).where(run.experiment_id == experiment_id)
            outside: dict[int, list[int]] = {}
            for follower, holder in s.execute(
                select(run.id, run.shared_from).where(
                    run.shared_from.in_(ours), run.experiment_id != experiment_id
                )
            ):
                if holder is not None:
                    outside.setdefault(int(holder), []).append(int(follower))
            heirs = {}
            for holder, among in outside.items():
                heir = self._hand_over(s, holder, keep=False, among=among)
                if heir is not None:
                    heirs[holder] = heir
            s.execute(delete(tables.Experiment).where(tables.Experiment.id == experiment_id))
            return heirs

    def hand_over(self, holder: int, *, among: Sequence[int]) -> int | None:
        """A run that holds numbers others share stops (cancelled): it keeps its rows so far,
        and one of the runs still following (`among`) gets a copy and holds the rest. Returns
        that heir, or None when none of `among` shares the holder's numbers."""
        with self.write_lock, self._tx() as s:
            return self._hand_over(s, holder, keep=True, among=among)

    def _hand_over(
        self, s: Session, holder: int, *, keep: bool, among: Sequence[int] | None = None
    ) -> int | None:
        """Make the lowest-numbered run sharing `holder`'s numbers (of `among`, if given) hold
        them: copied (`keep`) or moved. Every other run sharing them then shares the heir's."""
        run = tables.Run
        followers = select(run.id, run.experiment_id).where(run.shared_from == holder)
        if among is not None:
            followers = followers.where(run.id.in_(among))
        first = s.execute(followers.order_by(run.id).limit(1)).first()
        if first is None:
            return None
        heir, heir_experiment = int(first[0]), int(first[1])
        # A run sharing numbers holds none of its own (migration 0005 dropped older copies).
        metric, snap, log = tables.EpochMetric, tables.Snapshot, tables.EventLog
        numbers = log.run_id == holder, log.type.in_(NUMBERS)
        if keep:
            for table in (metric, snap):
                cols = [c for c in table.__table__.columns if c.name != "run_id"]
                s.execute(
                    insert(table).from_select(
                        ["run_id", *(c.name for c in cols)],
                        select(sa_literal(heir), *cols).where(table.run_id == holder),
                    )
                )
            kept = ("seq", "run_id", "experiment_id")
            cols = [c for c in log.__table__.columns if c.name not in kept]
            s.execute(
                insert(log).from_select(
                    ["experiment_id", "run_id", *(c.name for c in cols)],
                    select(sa_literal(heir_experiment), sa_literal(heir), *cols)
                    .where(*numbers)
                    .order_by(log.seq),
                )
            )
        else:
            for table in (metric, snap):
                s.execute(update(table).where(table.run_id == holder).values(run_id=heir))
            s.execute(
                update(log).where(*numbers).values(run_id=heir, experiment_id=heir_experiment)
            )
        # The others share the heir's rows; with a copy, runs that already left (not `among`)
        # keep sharing what the holder kept.
        others = [run.shared_from == holder, run.id != heir]
        if among is not None:
            others.append(run.id.in_(among))
        s.execute(update(run).where(*others).values(shared_from=heir))
        s.execute(update(run).where(run.id == heir).values(shared_from=None))
        return heir

    # -- runs ----------------------------------------------------------------------------------

    def get_run(self, run_id: int) -> RunRecord:
        with self._tx() as s:
            row = s.get(tables.Run, run_id)
            if row is None:
                raise NotFound(f"There is no run {run_id}.")
            return run_record(row, sealed=bool(sealed_experiments(s, [row.experiment_id])))

    def find_finished(self, fingerprints: Iterable[str]) -> dict[str, RunRecord]:
        """For each of these computations that a run trained to its end, that run: the newest
        that computed it itself (the page links to it), else the newest copy. A whole submission
        in two queries: two per run (this and the served run's reread) were a third of what a
        class of 40 submitting one lesson cost the server (profiled).

        Unsealed: the one reader whose records go to no client. Their summaries are copied
        to the runs they serve (jobs/sharing.py), whose records are sealed in turn; a private
        split (data.private_test) exists only in challenges (jobs/scheduler.py)."""
        wanted = sorted(set(fingerprints))
        if not wanted:
            return {}
        run = tables.Run
        with self._tx() as s:
            # Narrow rows first (a lesson a class has run has many copies), whole runs after.
            candidates = s.execute(
                select(run.fingerprint, run.id)
                .where(
                    run.fingerprint.in_(wanted),
                    run.status.in_(SHAREABLE),
                    run.epochs_run.is_not(None),
                )
                .order_by(run.shared_from.is_(None).asc(), run.id.asc())
            ).all()
            # In ascending preference: the last id of a fingerprint is the one to serve.
            best = {fingerprint: run_id for fingerprint, run_id in candidates}
            rows = s.scalars(select(run).where(run.id.in_(list(best.values())))).all()
            # Unsealed on purpose: sharing copies these numbers into another run's row, whose own
            # records are sealed in turn when it is a challenge's (no other run computes one).
            return {
                row.fingerprint: run_record(row, sealed=False) for row in rows if row.fingerprint
            }

    def mark_shared(self, pointers: dict[int, int | None]) -> None:
        """Note for each run whose rows hold its numbers: {run: holder, or None for its own}.
        One transaction for a whole submission (a lesson at R = 5 is 30 runs)."""
        if not pointers:
            return
        with self.write_lock, self._tx() as s:
            s.execute(
                update(tables.Run),
                [{"id": run_id, "shared_from": holder} for run_id, holder in pointers.items()],
            )

    def list_runs(
        self,
        *,
        experiment_id: int | None = None,
        owner: str | None = None,
        statuses: Sequence[str] | None = None,
        offset: int = 0,
        limit: int = 1000,
    ) -> tuple[list[RunRecord], int]:
        where = []
        if experiment_id is not None:
            where.append(tables.Run.experiment_id == experiment_id)
        if owner is not None:
            where.append(tables.Run.owner == owner)
        if statuses is not None:
            where.append(tables.Run.status.in_(statuses))
        with self._tx() as s:
            total = s.scalar(select(func.count()).select_from(tables.Run).where(*where))
            rows = s.scalars(
                select(tables.Run).where(*where).order_by(tables.Run.id).offset(offset).limit(limit)
            ).all()
            return run_records(s, rows), int(total or 0)

    def user_load(self, owner: str) -> UserLoad:
        with self._tx() as s:
            runs, epochs, experiments = s.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(tables.Run.epochs), 0),
                    func.count(func.distinct(tables.Run.experiment_id)),
                ).where(tables.Run.owner == owner, tables.Run.status.in_(UNFINISHED))
            ).one()
            return UserLoad(experiments=experiments, runs=runs, member_epochs=int(epochs))

    def unfinished_runs(self) -> list[RunRecord]:
        """Every run still queued or running, oldest first (what a restart must take up)."""
        with self._tx() as s:
            rows = s.scalars(
                select(tables.Run).where(tables.Run.status.in_(UNFINISHED)).order_by(tables.Run.id)
            ).all()
            return run_records(s, rows)

    def statuses(self, run_ids: Sequence[int]) -> dict[int, str]:
        """The status of each of these runs that exists."""
        if not run_ids:
            return {}
        with self._tx() as s:
            rows = s.execute(
                select(tables.Run.id, tables.Run.status).where(tables.Run.id.in_(run_ids))
            ).all()
            return {run_id: status for run_id, status in rows}

    def last_epochs(self, run_ids: Sequence[int]) -> dict[int, int]:
        """The newest stored epoch of each of these runs that has one."""
        if not run_ids:
            return {}
        m = tables.EpochMetric
        with self._tx() as s:
            rows = s.execute(
                select(m.run_id, func.max(m.epoch)).where(m.run_id.in_(run_ids)).group_by(m.run_id)
            ).all()
            return {int(run_id): int(epoch) for run_id, epoch in rows}

    def stored_bytes(self, owner: str, *, per_epoch: int) -> int:
        """About what one user's runs take in the store: their snapshots' JSON, and
        `per_epoch` bytes for each stored epoch (a metric row with its event-log entry)."""
        run, snap, metric = tables.Run, tables.Snapshot, tables.EpochMetric
        with self._tx() as s:
            snapshots = s.scalar(
                select(func.coalesce(func.sum(func.length(snap.data)), 0))
                .join(run, run.id == snap.run_id)
                .where(run.owner == owner)
            )
            epochs = s.scalar(
                select(func.count())
                .select_from(metric)
                .join(run, run.id == metric.run_id)
                .where(run.owner == owner)
            )
            return int(snapshots or 0) + int(epochs or 0) * per_epoch

    def store_quietly(self, events: Sequence[Event]) -> None:
        """Store epochs and snapshots again without logging them: a run retrained from its
        seeds after a restart rewrites, with the same numbers, what viewers already saw."""
        numbers = [e for e in events if isinstance(e, EpochEvent | SnapshotEvent)]
        if not numbers:
            return
        with self.write_lock, self._tx() as s:
            known = set(
                s.scalars(
                    select(tables.Run.id).where(tables.Run.id.in_({e.run_id for e in numbers}))
                )
            )
            _write_numbers(s, [e for e in numbers if e.run_id in known])

    # -- events --------------------------------------------------------------------------------

    def record(self, events: Sequence[Event]) -> list[Logged]:
        """Apply events to the typed rows and the event log in one transaction.

        A status change of a run that already has a final status is ignored (and not logged):
        the first final word on a run stands. Events of unknown (deleted) runs are dropped.
        """
        if not events:
            return []
        with self.write_lock, self._tx() as s:
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
            logged = self._log(s, kept, _write_numbers(s, numbers))
            # The live frames of a sealed experiment's summaries go out without their private
            # numbers; the log keeps them whole, for the replay after the reveal.
            summed = {e for e, ev in kept if isinstance(ev, SummaryEvent)}
            sealed = sealed_experiments(s, summed)
            if not sealed:
                return logged
            return [seal_logged(m) if m.experiment_id in sealed else m for m in logged]

    def replay(self, experiment_id: int, *, after: int, limit: int = 500) -> list[Logged]:
        """Logged events of one experiment with cursor > `after`, oldest first.

        A run that shares another's numbers gets that run's epochs and snapshots as its own,
        at their cursors: the log is in commit order over all experiments, so merging the two
        keeps "cursor > last seen" exact. (A computation feeds at most one run per experiment,
        jobs/sharing.py, so no two messages of one experiment share a cursor.)"""
        log, snap = tables.EventLog, tables.Snapshot
        with self._tx() as s:
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

    def _log(
        self,
        s: Session,
        events: list[tuple[int, Event]],
        known: dict[int, tuple[dict[str, Any], str]] | None = None,
    ) -> list[Logged]:
        """Append events to the log; each comes back with its cursor and its wire text.

        Every event is encoded to JSON once: that text is the stored payload and, with its
        cursor added, what the websocket sends. Cursors are numbered here, from the table's
        AUTOINCREMENT counter, under the store's write lock (SQLite's one writer: a write from
        elsewhere since this transaction's first read fails it, to be retried, never renumbered).
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
            wire = f'{text[:-1]},"cursor":{seq},"experiment_id":{experiment_id}}}'
            out.append(Logged(seq, experiment_id, message, wire))
        connection.exec_driver_sql(_LOG_INSERT, rows)
        return out
