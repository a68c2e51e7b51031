"""How each kind of event changes the rows it touches (pure functions, no queries)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from reglab.events import FINAL_STATUSES, EpochEvent, Event, RunStatus, SnapshotEvent, SummaryEvent
from reglab.store import tables
from reglab.store.codec import split_nonfinite, to_wire, wire_json
from reglab.store.records import METRIC_COLUMNS, SUMMARY_COLUMNS


def now() -> datetime:
    return datetime.now(UTC)


def fields(ev: Event) -> dict[str, Any]:
    """The event as a shallow dict: `to_dict()` deep-copies, which for a snapshot's grid costs
    more than storing it, and nothing here mutates the values."""
    return {name: getattr(ev, name) for name in ev.__dataclass_fields__}


METRIC_ROW = ("run_id", "epoch", *METRIC_COLUMNS, "grad_norms", "nonfinite")


def metric_params(ev: EpochEvent) -> tuple[Any, ...]:
    """An epoch's row as driver parameters in METRIC_ROW's order, its JSON columns as text."""
    values, special = split_nonfinite({name: getattr(ev, name) for name in METRIC_COLUMNS})
    nonfinite = None if special is None else json.dumps(special)
    return (ev.run_id, ev.epoch, *values.values(), wire_json(list(ev.grad_norms))[1], nonfinite)


def snapshot_text(ev: SnapshotEvent, data: str) -> str:
    """A snapshot's message as JSON text, around its data's text (the largest thing reglab
    sends: a boundary grid is encoded once, for the row and the wire)."""
    head = json.dumps(
        {"run_id": ev.run_id, "epoch": ev.epoch, "kind": ev.kind}, separators=(",", ":")
    )
    return f'{head[:-1]},"data":{data},"type":"snapshot"}}'


def apply_status(run: tables.Run, status: str, message: str | None) -> bool:
    """Move a run to `status`; False when it already has a final one (which stands)."""
    if run.status in FINAL_STATUSES:
        return False
    moment = now()
    run.status = status
    if message:
        run.message = message
    if status == RunStatus.RUNNING and run.started_at is None:
        run.started_at = moment
    if status in FINAL_STATUSES:
        run.finished_at = moment
    return True


def apply_summary(run: tables.Run, ev: SummaryEvent) -> None:
    values, special = split_nonfinite({name: getattr(ev, name) for name in SUMMARY_COLUMNS})
    for name, value in values.items():
        setattr(run, name, value)
    run.nonfinite = special
    run.summary_extra = to_wire(dict(ev.extra))
    apply_status(run, ev.status, None)
