"""What training says while it runs: plain, picklable events shared by engine, store and wire.

The engine yields them, workers send them (pickled) to the API process, the store writes them,
and the websocket sends `to_dict()` of each with a cursor added. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal


class RunStatus(StrEnum):
    """Where a run stands. The one list of statuses: the page reads it from /api/statuses."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED_EARLY = "stopped_early"
    DIVERGED = "diverged"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        """A run in a final status never trains again (a re-queued interrupted run is new work)."""
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def trained(self) -> bool:
        """It trained to an end of its own, so its numbers count (comparisons, verdicts, boards)."""
        return self in (RunStatus.COMPLETED, RunStatus.STOPPED_EARLY, RunStatus.DIVERGED)


FINAL_STATUSES: frozenset[str] = frozenset(s.value for s in RunStatus if s.is_final)
TRAINED_STATUSES: frozenset[RunStatus] = frozenset(s for s in RunStatus if s.trained)


def metric(meaning: str) -> dict[str, str]:
    """A field's metadata that makes it a per-epoch metric (reglab/metrics.py reads them)."""
    return {"metric": meaning}


@dataclass(frozen=True, slots=True)
class EpochMetrics:
    """One run's numbers after one epoch (losses and accuracies in evaluation mode).

    The per-epoch metrics are declared here, once: each field with `metric(...)` metadata.
    The store's columns, its records, the cost estimate and /api/metrics derive from these
    (reglab/metrics.py); a `float | None` one may be None, a `list[float]` one is per layer.
    """

    run_id: int
    epoch: int  # 1-based: epoch 1 is after the first pass over the data
    train_loss: float = field(metadata=metric("loss on the training split, evaluation mode"))
    val_loss: float = field(metadata=metric("loss on the validation split"))
    train_acc: float | None = field(
        metadata=metric("accuracy on the training split; None in regression")
    )
    val_acc: float | None = field(
        metadata=metric("accuracy on the validation split; None in regression")
    )
    lr: float = field(metadata=metric("the learning rate"))
    weight_l1: float = field(metadata=metric("Σ|w| over weights (biases excluded)"))
    weight_l2: float = field(metadata=metric("sqrt(Σw²) over weights"))
    sparsity: float = field(metadata=metric("fraction of weights exactly 0"))
    grad_norms: list[float] = field(
        metadata=metric("per layer (input → output), weights' gradient L2 norm, epoch mean")
    )
    step_size: float = field(
        metadata=metric("mean |Δw| per weight over the epoch's updates: the effective step")
    )
    seconds: float = field(metadata=metric("wall time since the run started"))


@dataclass(frozen=True, slots=True)
class EpochEvent(EpochMetrics):
    """An epoch's metrics as training says them (accuracies None for regression)."""

    type: Literal["epoch"] = "epoch"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SnapshotEvent:
    """A heavier picture every N epochs: kind is 'histogram', 'boundary', 'curve' or
    'ensemble' (a dropout run's thinned nets against its scaled net, training/ensemble.py)."""

    run_id: int
    epoch: int
    kind: Literal["histogram", "boundary", "curve", "ensemble"]
    data: dict[str, Any]
    type: Literal["snapshot"] = "snapshot"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A run changed state; message says why for failed, diverged, interrupted, stopped_early."""

    run_id: int
    status: RunStatus
    message: str | None = None
    epoch: int | None = None  # the epoch at which it happened, when it matters
    # True when nothing follows for this run: the service ended it (failed, interrupted,
    # cancelled before or around training), so no SummaryEvent comes. Training's own final
    # statuses are followed by a summary and leave this False.
    last: bool = False
    type: Literal["status"] = "status"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SummaryEvent:
    """The final word on a run, sent once after its last epoch event."""

    run_id: int
    status: RunStatus
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    final_train_loss: float
    final_val_loss: float
    test_loss: float  # of the reported weights (best ones when restore_best)
    test_acc: float | None
    gap: float  # final val_loss − final train_loss
    sparsity: float
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    type: Literal["summary"] = "summary"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Event = EpochEvent | SnapshotEvent | StatusEvent | SummaryEvent

_BY_TYPE: dict[str, type[EpochEvent | SnapshotEvent | StatusEvent | SummaryEvent]] = {
    "epoch": EpochEvent,
    "snapshot": SnapshotEvent,
    "status": StatusEvent,
    "summary": SummaryEvent,
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `to_dict()` output (extra keys such as cursor are ignored)."""
    cls = _BY_TYPE[data["type"]]
    names = cls.__dataclass_fields__.keys()
    return cls(**{k: v for k, v in data.items() if k in names})
