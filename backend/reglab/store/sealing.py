"""Which experiments' records are handed out sealed: the one test every reader of the store
passes (store/records.py seals a record; this says whose)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from reglab.store import tables


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
