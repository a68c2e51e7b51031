"""Polls in the store, and the one place their answers are withheld.

A poll's answers are a secret until its outcome exists: every reader gets a PollRecord, built
only by `poll_record`, which carries the number of answers and the viewer's own choice, and the
spread of choices only once the outcome is stored. No function here hands out another student's
choice in any other shape, so no route or export can leak one by forgetting a check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reglab.errors import Conflict, NotFound
from reglab.store import tables
from reglab.store.apply import now
from reglab.store.records import utc
from reglab.store.repo import Store


class PollState(StrEnum):
    """Where a poll stands: answering, its runs training (answers closed), its outcome stored."""

    OPEN = "open"
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class PollRecord:
    """A poll as a viewer may see it: `spread` is None until `outcome` is."""

    id: int
    lesson: str
    question: str
    choices: list[str]
    spec: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    experiment_id: int | None
    outcome: dict[str, Any] | None
    answers: int
    mine: str | None
    spread: dict[str, int] | None

    @property
    def state(self) -> PollState:
        if self.outcome is not None:
            return PollState.DONE
        return PollState.OPEN if self.started_at is None else PollState.RUNNING


def poll_record(row: tables.Poll, answers: list[tuple[str, str]], viewer: str | None) -> PollRecord:
    """The record of a poll for `viewer` (a name, or None): the only way one leaves the store."""
    spread = None
    if row.outcome is not None:
        counted = Counter(choice for _, choice in answers)
        spread = {choice: counted.get(choice, 0) for choice in row.choices}
    return PollRecord(
        id=row.id,
        lesson=row.lesson,
        question=row.question,
        choices=list(row.choices),
        spec=row.spec,
        created_at=utc(row.created_at) or row.created_at,
        started_at=utc(row.started_at),
        experiment_id=row.experiment_id,
        outcome=row.outcome,
        answers=len(answers),
        mine=next((choice for name, choice in answers if name == viewer), None),
        spread=spread,
    )


def _answers(s: Session, poll_id: int) -> list[tuple[str, str]]:
    a = tables.PollAnswer
    return [(n, c) for n, c in s.execute(select(a.name, a.choice).where(a.poll_id == poll_id))]


def _row(s: Session, poll_id: int) -> tables.Poll:
    row = s.get(tables.Poll, poll_id)
    if row is None:
        raise NotFound(f"There is no poll {poll_id}.")
    return row


def create_poll(
    store: Store, *, lesson: str, question: str, choices: list[str], spec: dict[str, Any]
) -> PollRecord:
    with store.write_lock, store.transaction() as s:
        row = tables.Poll(
            lesson=lesson, question=question, choices=choices, spec=spec, created_at=now()
        )
        s.add(row)
        s.flush()
        return poll_record(row, [], None)


def get_poll(store: Store, poll_id: int, *, viewer: str | None) -> PollRecord:
    with store.transaction() as s:
        row = _row(s, poll_id)
        return poll_record(row, _answers(s, poll_id), viewer)


def list_polls(store: Store, *, limit: int = 50) -> list[PollRecord]:
    """The newest polls, seen by no one in particular (counts, and spreads once decided)."""
    with store.transaction() as s:
        rows = s.scalars(select(tables.Poll).order_by(tables.Poll.id.desc()).limit(limit)).all()
        return [poll_record(row, _answers(s, row.id), None) for row in rows]


def answer(store: Store, poll_id: int, *, name: str, choice: str) -> PollRecord:
    """Store `name`'s one answer while the poll is open (Conflict once started or answered)."""
    with store.write_lock, store.transaction() as s:
        row = _row(s, poll_id)
        if row.started_at is not None:
            raise Conflict(f"Poll {poll_id} has started; answers closed when the runs began.")
        if s.get(tables.PollAnswer, (poll_id, name)) is not None:
            raise Conflict(f"{name} has answered poll {poll_id} already; one answer each.")
        s.add(tables.PollAnswer(poll_id=poll_id, name=name, choice=choice, created_at=now()))
        s.flush()
        return poll_record(row, _answers(s, poll_id), name)


def close_answers(store: Store, poll_id: int) -> PollRecord:
    """Mark the poll started (once: a second start is a Conflict), closing its answers."""
    with store.write_lock, store.transaction() as s:
        row = _row(s, poll_id)
        if row.started_at is not None:
            raise Conflict(f"Poll {poll_id} has started already.")
        row.started_at = now()
        s.flush()
        return poll_record(row, _answers(s, poll_id), None)


def reopen(store: Store, poll_id: int) -> None:
    """Undo close_answers when its experiment could not be launched (e.g. over a quota)."""
    with store.write_lock, store.transaction() as s:
        s.execute(
            update(tables.Poll)
            .where(tables.Poll.id == poll_id, tables.Poll.experiment_id.is_(None))
            .values(started_at=None)
        )


def set_experiment(store: Store, poll_id: int, experiment_id: int) -> None:
    with store.write_lock, store.transaction() as s:
        _row(s, poll_id).experiment_id = experiment_id


def settle(
    store: Store, poll_id: int, outcome: dict[str, Any], *, viewer: str | None
) -> PollRecord:
    """Store the outcome the runs decided (the first one stored stands) and reveal the spread."""
    with store.write_lock, store.transaction() as s:
        s.execute(
            update(tables.Poll)
            .where(tables.Poll.id == poll_id, tables.Poll.outcome.is_(None))
            .values(outcome=outcome)
        )
        row = _row(s, poll_id)
        s.refresh(row)
        return poll_record(row, _answers(s, poll_id), viewer)
