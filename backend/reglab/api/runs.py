"""/api/runs: submit one run, list, read, metrics, snapshots, cancel."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from reglab.api.deps import MAX_STORED_INT, CallerDep, RunDep, RuntimeDep, submitting
from reglab.api.schemas import Cancelled, Page, RunRead
from reglab.events import RunStatus
from reglab.spec import MAX_EPOCHS, ExperimentSpec, RunSpec, Variant
from reglab.store.codec import wire_json

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RunRead)
def submit_run(
    spec: RunSpec,
    caller: CallerDep,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    name: Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[\w .:+=\-]+$")] = "run",
) -> Any:
    """Queue a single run (stored as an experiment of one run); a name's first use binds it."""
    one = ExperimentSpec(name=name, base=spec, variants=[Variant(name=name)])
    with submitting(caller, runtime, request, response) as owner:
        return runtime.scheduler.submit(owner=owner, spec=one).runs[0]


@router.get("", response_model=Page[RunRead])
def list_runs(
    runtime: RuntimeDep,
    experiment_id: Annotated[int | None, Query(ge=1, le=MAX_STORED_INT)] = None,
    owner: Annotated[str | None, Query(max_length=40)] = None,
    status: RunStatus | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Runs, oldest first, filtered by experiment, owner or status."""
    items, total = runtime.store.list_runs(
        experiment_id=experiment_id,
        owner=owner,
        statuses=None if status is None else [status],
        offset=offset,
        limit=limit,
    )
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/{run_id}", response_model=RunRead)
def read_run(run: RunDep) -> Any:
    """One run with its status and summary."""
    return run


@router.get("/{run_id}/metrics")
def read_metrics(
    run: RunDep, runtime: RuntimeDep, after_epoch: Annotated[int, Query(ge=0, le=MAX_EPOCHS)] = 0
) -> list[dict[str, Any]]:
    """Per-epoch metrics after `after_epoch`, oldest first (non-finite floats as "NaN" etc.)."""
    return [asdict(row) for row in runtime.store.metrics(run.id, after_epoch=after_epoch)]


@router.get("/{run_id}/snapshots", response_model=list[dict[str, Any]])
def read_snapshots(
    run: RunDep,
    runtime: RuntimeDep,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    epoch: Annotated[int | None, Query(ge=0, le=MAX_EPOCHS)] = None,
) -> Response:
    """Snapshots (histogram, boundary, curve) of a run, optionally one kind or one epoch.

    Written by the C encoder, not walked by FastAPI's: a page opening a finished run asks for
    every snapshot (80 decision-boundary grids of 2,000 epochs: 1.2 MB), which took 0.4 s of the
    server's time, in the seconds that page was being drawn, where this takes 0.03 s."""
    found = runtime.store.snapshots(run.id, kind=kind, epoch=epoch)
    return Response(wire_json([asdict(s) for s in found])[1], media_type="application/json")


@router.post("/{run_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=Cancelled)
def cancel_run(run: RunDep, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Stop the run at its next step; the rest of its group goes on (its owner, or an admin)."""
    caller.may_change(run.owner, f"Run {run.id}", "cancel")
    runtime.scheduler.cancel_run(run)
    return {"cancelled": [run.id]}
