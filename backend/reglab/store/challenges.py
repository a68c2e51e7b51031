"""The store's challenge queries: the challenge rows, and the experiments tagged with each."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reglab.errors import NotFound
from reglab.store import tables
from reglab.store.apply import now
from reglab.store.records import ExperimentRecord, experiment_record, utc


@dataclass(frozen=True, slots=True)
class ChallengeRecord:
    id: int
    title: str
    description: str
    lesson: str | None
    owner: str
    base: dict[str, Any]
    open: list[str]
    repeats: int
    max_entries: int
    max_epochs: int
    metric: str
    created_at: datetime
    closed_at: datetime | None
    revealed_at: datetime | None

    @property
    def status(self) -> str:
        """open (taking entries), closed, or revealed (the private board shown)."""
        if self.revealed_at is not None:
            return "revealed"
        return "open" if self.closed_at is None else "closed"


def challenge_record(row: tables.Challenge) -> ChallengeRecord:
    return ChallengeRecord(
        id=row.id,
        title=row.title,
        description=row.description,
        lesson=row.lesson,
        owner=row.owner,
        base=row.base,
        open=list(row.open),
        repeats=row.repeats,
        max_entries=row.max_entries,
        max_epochs=row.max_epochs,
        metric=row.metric,
        created_at=utc(row.created_at) or row.created_at,
        closed_at=utc(row.closed_at),
        revealed_at=utc(row.revealed_at),
    )


class ChallengeQueries:
    """Mixed into store.repo.Store: these use its transactions and its write lock."""

    write_lock: threading.RLock

    def _tx(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def create_challenge(self, **values: Any) -> ChallengeRecord:
        with self.write_lock, self._tx() as s:
            row = tables.Challenge(created_at=now(), **values)
            s.add(row)
            s.flush()
            return challenge_record(row)

    def delete_challenge(self, challenge_id: int) -> None:
        """Forget a challenge that has no experiments yet (its baselines were refused)."""
        with self.write_lock, self._tx() as s:
            s.execute(delete(tables.Challenge).where(tables.Challenge.id == challenge_id))

    def get_challenge(self, challenge_id: int) -> ChallengeRecord:
        with self._tx() as s:
            return challenge_record(_row(s, challenge_id))

    def list_challenges(self) -> list[ChallengeRecord]:
        """Newest first."""
        with self._tx() as s:
            rows = s.scalars(select(tables.Challenge).order_by(tables.Challenge.id.desc()))
            return [challenge_record(r) for r in rows]

    def mark_challenge(self, challenge_id: int, moment: str) -> ChallengeRecord:
        """Set `closed_at` or `revealed_at` now (a reveal closes it too); kept if set already."""
        with self.write_lock, self._tx() as s:
            row = _row(s, challenge_id)
            stamp = now()
            if row.closed_at is None:
                row.closed_at = stamp
            if moment == "revealed_at" and row.revealed_at is None:
                row.revealed_at = stamp
            s.flush()
            return challenge_record(row)

    def challenge_with_experiments(
        self, challenge_id: int
    ) -> tuple[ChallengeRecord, list[ExperimentRecord]]:
        """The challenge and its baselines and entries (oldest first), read in one transaction,
        so the records are sealed exactly when the challenge read is unrevealed."""
        with self._tx() as s:
            row = _row(s, challenge_id)
            sealed = row.revealed_at is None
            found = s.scalars(
                select(tables.Experiment)
                .where(tables.Experiment.challenge_id == challenge_id)
                .order_by(tables.Experiment.id)
            ).all()
            runs: dict[int, list[tables.Run]] = {e.id: [] for e in found}
            for run in s.scalars(
                select(tables.Run)
                .where(tables.Run.experiment_id.in_(runs))
                .order_by(tables.Run.position)
            ):
                runs[run.experiment_id].append(run)
            experiments = [experiment_record(e, runs[e.id], sealed) for e in found]
            return challenge_record(row), experiments

    def count_entries(self, challenge_id: int, owner: str) -> int:
        e = tables.Experiment
        with self._tx() as s:
            counted = s.scalar(
                select(func.count())
                .select_from(e)
                .where(
                    e.challenge_id == challenge_id, e.owner == owner, e.challenge_role == "entry"
                )
            )
            return int(counted or 0)

    def board_cursor(self, challenge_id: int) -> tuple[int, str]:
        """What the board is worked out from, in two words: the newest status or summary event
        of any of its experiments (epochs, a class's constant stream, leave the board as it is),
        and the challenge's status (a close or reveal logs no event)."""
        log, e = tables.EventLog, tables.Experiment
        with self._tx() as s:
            row = _row(s, challenge_id)
            ours = select(e.id).where(e.challenge_id == challenge_id)
            seq = s.scalar(
                select(func.max(log.seq)).where(
                    log.experiment_id.in_(ours), log.type.in_(("status", "summary"))
                )
            )
            return int(seq or 0), challenge_record(row).status


def _row(s: Session, challenge_id: int) -> tables.Challenge:
    row = s.get(tables.Challenge, challenge_id)
    if row is None:
        raise NotFound(f"There is no challenge {challenge_id}.")
    return row
