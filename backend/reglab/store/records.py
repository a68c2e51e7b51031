"""Plain objects the store hands out, so no ORM row ever leaves a transaction.

They are also where a challenge's secret is kept: a run of a challenge not yet revealed is
handed out *sealed*, its private test split's numbers (`SEALED`) withheld, as is its summary
event in the log, live or replayed. Every reader (routes, exports, the report, the CLI, the
websocket) gets these records, so none can leak a number by forgetting a check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reglab.events import FINAL_STATUSES, EpochMetrics, RunStatus
from reglab.metrics import PER_LAYER, SCALARS
from reglab.store import tables
from reglab.store.codec import join_nonfinite

SUMMARY_COLUMNS = (
    "epochs_run",
    "best_epoch",
    "best_val_loss",
    "final_train_loss",
    "final_val_loss",
    "test_loss",
    "test_acc",
    "gap",
    "sparsity",
    "seconds",
)
# A challenge run's numbers on the private test split (its test split), hidden until the reveal.
SEALED = ("test_loss", "test_acc")
WITHHELD = "the private test split, until the challenge's reveal"
# The typed columns of a stored epoch: one per declared one-number metric (reglab/metrics.py).
METRIC_COLUMNS = SCALARS


def utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every moment the store writes is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    experiment_id: int
    position: int
    name: str
    variant: str
    replicate: int
    fingerprint: str | None
    shared_from: int | None
    owner: str
    spec: dict[str, Any]
    epochs: int
    status: str
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    id: int
    name: str
    description: str
    lesson: str | None
    owner: str
    spec: dict[str, Any]
    created_at: datetime
    runs: list[RunRecord] = field(default_factory=list)
    challenge_id: int | None = None
    challenge_role: str | None = None

    @property
    def status(self) -> str:
        """running while any run trains, queued while any waits, else finished."""
        statuses = {r.status for r in self.runs}
        for waiting in (RunStatus.RUNNING, RunStatus.QUEUED):
            if waiting in statuses:
                return waiting.value
        return "finished"


# A stored epoch reads back as the numbers its event said (without the event's `type`); its
# `run_id` is the reading run's when it shares another's rows.
MetricRow = EpochMetrics


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    run_id: int
    epoch: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Logged:
    """One committed event as it goes on the wire: the event's fields plus its cursor."""

    seq: int
    experiment_id: int
    message: dict[str, Any]
    # The event's JSON as stored, without cursor or experiment id (journal.frame_of adds them).
    text: str | None = None


@dataclass(frozen=True, slots=True)
class UserLoad:
    """What one user has not finished yet, for the quotas."""

    experiments: int
    runs: int
    member_epochs: int


def seal(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary (a row's, or a summary event's message) without its private numbers."""
    sealed = {**summary, **dict.fromkeys(SEALED)}
    sealed["extra"] = {**(summary.get("extra") or {}), "withheld": WITHHELD}
    return sealed


def seal_logged(entry: Logged) -> Logged:
    """A logged event as a sealed experiment's stream shows it: a summary without its private
    numbers (the log keeps them, for the replay after the reveal)."""
    if entry.message.get("type") != "summary":
        return entry
    return Logged(entry.seq, entry.experiment_id, seal(entry.message))


def run_record(row: tables.Run, *, sealed: bool) -> RunRecord:
    """The row as a record; `sealed`: its experiment belongs to a challenge not yet revealed.

    Every caller says which, so no new reader can hand out a private number by default
    (store/repo.py `sealed_experiments` tells; `run_records` does both for a list of rows).
    """
    summary: dict[str, Any] | None = None
    if row.epochs_run is not None:
        values = {name: getattr(row, name) for name in SUMMARY_COLUMNS}
        summary = join_nonfinite(values, row.nonfinite)
        summary["extra"] = row.summary_extra or {}
        if sealed:
            summary = seal(summary)
    return RunRecord(
        id=row.id,
        experiment_id=row.experiment_id,
        position=row.position,
        name=row.name,
        variant=row.variant,
        replicate=row.replicate,
        fingerprint=row.fingerprint,
        shared_from=row.shared_from,
        owner=row.owner,
        spec=row.spec,
        epochs=row.epochs,
        status=row.status,
        message=row.message,
        created_at=utc(row.created_at) or row.created_at,
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at),
        summary=summary,
    )


def experiment_record(
    row: tables.Experiment, runs: list[tables.Run], sealed: bool = False
) -> ExperimentRecord:
    return ExperimentRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        lesson=row.lesson,
        owner=row.owner,
        spec=row.spec,
        created_at=utc(row.created_at) or row.created_at,
        runs=[run_record(r, sealed=sealed) for r in runs],
        challenge_id=row.challenge_id,
        challenge_role=row.challenge_role,
    )


def metric_row(row: tables.EpochMetric, run_id: int | None = None) -> MetricRow:
    """The row as a record; `run_id` names the run reading it when that run shares its rows."""
    values = join_nonfinite({name: getattr(row, name) for name in METRIC_COLUMNS}, row.nonfinite)
    lists = {name: getattr(row, name) for name in PER_LAYER}
    return MetricRow(
        run_id=row.run_id if run_id is None else run_id, epoch=row.epoch, **values, **lists
    )
