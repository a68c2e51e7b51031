"""The class as the teacher sees it: each name's work, the troubled runs, every result in rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from reglab.events import RunStatus
from reglab.store import tables
from reglab.store.records import RunRecord, utc
from reglab.store.repo import Store, run_records

TROUBLED = (RunStatus.FAILED.value, RunStatus.DIVERGED.value)


@dataclass(frozen=True, slots=True)
class StudentRecord:
    """One name: its experiments, its runs by status, and the newest moment the store knows of
    it (its newest experiment, or when it chose its name)."""

    name: str
    experiments: int
    entries: int  # of which entries to a challenge
    queued: int
    running: int
    failed: int
    last_stored: datetime | None


def roster(store: Store) -> list[StudentRecord]:
    """Every name that chose itself or owns an experiment, by name."""
    e, r, i = tables.Experiment, tables.Run, tables.Identity

    def count(status: RunStatus) -> Any:
        return func.coalesce(func.sum(case((r.status == status, 1), else_=0)), 0)

    with store.transaction() as s:
        runs = {
            owner: (queued, running, failed)
            for owner, queued, running, failed in s.execute(
                select(
                    r.owner,
                    count(RunStatus.QUEUED),
                    count(RunStatus.RUNNING),
                    count(RunStatus.FAILED),
                ).group_by(r.owner)
            )
        }
        entry = func.coalesce(func.sum(case((e.challenge_role == "entry", 1), else_=0)), 0)
        experiments = {
            owner: (n, int(entries), utc(newest))
            for owner, n, entries, newest in s.execute(
                select(e.owner, func.count(), entry, func.max(e.created_at)).group_by(e.owner)
            )
        }
        bound = {name: utc(at) for name, at in s.execute(select(i.name, i.created_at))}
    out = []
    for name in sorted(set(runs) | set(experiments) | set(bound)):
        queued, running, failed = runs.get(name, (0, 0, 0))
        n, entries, newest = experiments.get(name, (0, 0, None))
        moments = [m for m in (newest, bound.get(name)) if m is not None]
        out.append(
            StudentRecord(
                name,
                int(n),
                entries,
                int(queued),
                int(running),
                int(failed),
                max(moments, default=None),
            )
        )
    return out


def troubled_runs(store: Store, *, limit: int = 200) -> list[RunRecord]:
    """Failed and diverged runs (a time limit ends a run failed), newest first."""
    with store.transaction() as s:
        rows = s.scalars(
            select(tables.Run)
            .where(tables.Run.status.in_(TROUBLED))
            .order_by(tables.Run.id.desc())
            .limit(limit)
        ).all()
        return run_records(s, rows)


RESULT_COLUMNS = (
    "owner",
    "experiment_id",
    "experiment",
    "lesson",
    "run_id",
    "run",
    "variant",
    "replicate",
    "status",
    "epochs_run",
    "final_train_loss",
    "final_val_loss",
    "best_val_loss",
    "best_epoch",
    "test_acc",
    "sparsity",
    "message",
)


def results(store: Store, *, batch: int = 500) -> Iterator[tuple[Any, ...]]:
    """Every run of every experiment as one row of RESULT_COLUMNS, oldest first."""
    e, r = tables.Experiment, tables.Run
    after = 0
    while True:
        with store.transaction() as s:
            rows = s.execute(
                select(e.name, e.lesson, r)
                .join(r, r.experiment_id == e.id)
                .where(r.id > after)
                .order_by(r.id)
                .limit(batch)
            ).all()
            records = run_records(s, [run for _, _, run in rows])
            found = [(n, lesson, rec) for (n, lesson, _), rec in zip(rows, records, strict=True)]
        if not found:
            return
        for name, lesson, run in found:
            summary = run.summary or {}
            yield (
                run.owner,
                run.experiment_id,
                name,
                lesson or "",
                run.id,
                run.name,
                run.variant,
                run.replicate,
                run.status,
                *(summary.get(c) for c in RESULT_COLUMNS[9:16]),
                run.message or "",
            )
        after = found[-1][2].id


def runs_by_id(store: Store, run_ids: set[int]) -> dict[int, RunRecord]:
    """These runs (those that exist), by id: whose work each group of the scheduler is."""
    if not run_ids:
        return {}
    with store.transaction() as s:
        rows = s.scalars(select(tables.Run).where(tables.Run.id.in_(run_ids))).all()
        return {record.id: record for record in run_records(s, rows)}
