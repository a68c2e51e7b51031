"""The store: experiments and runs, and the rooms mixed into it; one transaction per call.

Its other queries live beside it: a run's numbers (history.py), identities, challenges, and the
event log (log.py), which only the journal (reglab/journal.py) writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import literal as sa_literal
from sqlalchemy.orm import Session, sessionmaker

from reglab.errors import NotFound
from reglab.events import RunStatus, StatusEvent
from reglab.spec import ExperimentSpec
from reglab.store import tables
from reglab.store.apply import now
from reglab.store.challenges import ChallengeQueries
from reglab.store.engine import make_engine
from reglab.store.history import NUMBERS, HistoryQueries
from reglab.store.identities import IdentityQueries
from reglab.store.log import append
from reglab.store.records import (
    ExperimentRecord,
    Logged,
    RunRecord,
    UserLoad,
    experiment_record,
    run_record,
)
from reglab.store.sealing import sealed_experiments

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Runs whose numbers another identical run may be served: they trained to their own end.
SHAREABLE = (RunStatus.COMPLETED, RunStatus.STOPPED_EARLY, RunStatus.DIVERGED)
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


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
        # commit order must equal its publish order (see reglab/journal.py).
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

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """One read transaction: every query in it sees the same committed state. pysqlite
        begins a transaction only before a write, so without this BEGIN each SELECT of a
        session sees what was committed when it ran: a history read its cursor, the writer
        committed an epoch, and the rows then held that epoch twice for a stream resuming from
        the cursor (tests/unit/test_store_snapshot.py). Read-only: a write in it could fail to
        take the lock once another connection has written since it began."""
        with self._sessions() as session, session.begin():
            session.connection().exec_driver_sql("BEGIN")
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
                    status=RunStatus.QUEUED,
                    created_at=moment,
                )
                for i, planned in enumerate(spec.members())
            ]
            s.add_all(runs)
            s.flush()
            logged = append(s, [(row.id, StatusEvent(r.id, RunStatus.QUEUED)) for r in runs])
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
        to the runs they serve (reglab/sharing.py), whose records are sealed in turn; a private
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
