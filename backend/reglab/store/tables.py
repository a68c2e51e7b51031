"""The store's tables (SQLAlchemy 2.0): experiments, runs, epoch metrics, snapshots, event log,
identities and challenges."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reglab.metrics import METRICS


class Base(DeclarativeBase):
    pass


class Experiment(Base):
    __tablename__ = "experiment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    lesson: Mapped[str | None] = mapped_column(String(80), index=True)
    owner: Mapped[str] = mapped_column(String(40), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The challenge this experiment is an entry or the baselines of; NULL for any other.
    # (No foreign key: SQLite adds one only by copying the table, and challenges stay.)
    challenge_id: Mapped[int | None] = mapped_column(Integer, index=True)
    challenge_role: Mapped[str | None] = mapped_column(String(20))  # "entry" | "baselines"


class Challenge(Base):
    """A teacher's task: a fixed base, the fields students may change, and the budget. Its
    board is never stored: it is worked out from its experiments' runs (reglab/board.py)."""

    __tablename__ = "challenge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    lesson: Mapped[str | None] = mapped_column(String(80))
    owner: Mapped[str] = mapped_column(String(40))
    base: Mapped[dict[str, Any]] = mapped_column(JSON)  # a RunSpec, its data with both tests
    open: Mapped[list[Any]] = mapped_column(JSON)  # dotted RunSpec paths students may change
    repeats: Mapped[int] = mapped_column(Integer)
    max_entries: Mapped[int] = mapped_column(Integer)
    max_epochs: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(20))  # "accuracy" | "loss"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # NULL until the reveal: until then no record the store hands out carries a number of
    # the private test split (store/repo.py seals them).
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Run(Base):
    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiment.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    # Which variant of the experiment this run trains, and which of its replicates (0-based).
    variant: Mapped[str] = mapped_column(String(80), default="")
    replicate: Mapped[int] = mapped_column(Integer, default=0)
    # The computation: equal fingerprints train to equal numbers (spec.RunSpec.fingerprint).
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    # The run whose computation this one's numbers come from, when it was shared; else NULL.
    shared_from: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(40), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    epochs: Mapped[int] = mapped_column(Integer)  # planned, for the member-epoch quota
    status: Mapped[str] = mapped_column(String(20), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Summary, filled by the run's SummaryEvent; NULL until then.
    epochs_run: Mapped[int | None] = mapped_column(Integer)
    best_epoch: Mapped[int | None] = mapped_column(Integer)
    best_val_loss: Mapped[float | None] = mapped_column(Float)
    final_train_loss: Mapped[float | None] = mapped_column(Float)
    final_val_loss: Mapped[float | None] = mapped_column(Float)
    test_loss: Mapped[float | None] = mapped_column(Float)
    test_acc: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    sparsity: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    summary_extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # SQL cannot hold NaN/±Inf (SQLite turns NaN into NULL): such a column is NULL here and
    # its true value is named in this map, e.g. {"best_val_loss": "nan"}.
    nonfinite: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class EpochMetric(Base):
    """One run's numbers after one epoch: a column per declared metric (reglab/metrics.py),
    a Float for each one-number metric and JSON for each per-layer one, in declaration order.
    A new metric needs no line here, only its migration (tests/unit/test_metrics.py compares)."""

    __table__ = Table(
        "epoch_metric",
        Base.metadata,
        Column("run_id", ForeignKey("run.id", ondelete="CASCADE"), primary_key=True),
        Column("epoch", Integer, primary_key=True),
        *(
            Column(m.name, JSON, nullable=False) if m.per_layer else Column(m.name, Float)
            for m in METRICS
        ),
        # SQL cannot hold NaN/±Inf: such a column is NULL and its true value is named here.
        Column("nonfinite", JSON),
    )

    if TYPE_CHECKING:  # the columns above, as the type checker sees them
        run_id: Mapped[int]
        epoch: Mapped[int]
        grad_norms: Mapped[list[Any]]
        nonfinite: Mapped[dict[str, Any] | None]


class Snapshot(Base):
    __tablename__ = "snapshot"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventLog(Base):
    """Every event of an experiment in commit order; `seq` is the websocket cursor.

    Written in the same transaction as the typed rows above. Snapshot entries keep no payload
    (the snapshot row has it); the others keep the event as sent on the wire.
    """

    __tablename__ = "event_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(10))
    epoch: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # AUTOINCREMENT: a seq is never reused, even after the newest events are deleted.
    __table_args__ = (
        Index("ix_event_log_experiment_seq", "experiment_id", "seq"),
        Index("ix_event_log_experiment_type_seq", "experiment_id", "type", "seq"),
        {"sqlite_autoincrement": True},
    )


class Identity(Base):
    """A display name bound to its secret: only the SHA-256 of the token is kept."""

    __tablename__ = "identity"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Poll(Base):
    """A question over one lesson's experiment; `outcome` is set once its runs decide it."""

    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lesson: Mapped[str] = mapped_column(String(80))
    question: Mapped[str] = mapped_column(String(40))
    choices: Mapped[list[str]] = mapped_column(JSON)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # the experiment start launches
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    experiment_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PollAnswer(Base):
    """One student's answer to a poll: a secret from the others until the poll's outcome."""

    __tablename__ = "poll_answer"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    choice: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
