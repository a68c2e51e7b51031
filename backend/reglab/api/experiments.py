"""/api/experiments: submit, list, read, cancel, delete and clone comparisons."""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from reglab.api.deps import (
    MAX_STORED_INT,
    CallerDep,
    ExperimentDep,
    HistoriesDep,
    RuntimeDep,
    submitting,
)
from reglab.api.history import compact_gzip
from reglab.api.lessons import lesson_names, lesson_spec
from reglab.api.schemas import Cancelled, ExperimentRead, Page
from reglab.errors import Conflict
from reglab.spec import ExperimentSpec
from reglab.store.codec import wire_json

router = APIRouter(prefix="/api/experiments", tags=["experiments"])

# A body naming only a lesson (and perhaps a display name) means "run that lesson".
_LESSON_ONLY = ({"lesson"}, {"lesson", "name"})


def resolve(spec: ExperimentSpec) -> ExperimentSpec:
    """The spec to run: the lesson's own, when the body names a lesson and nothing else."""
    if spec.lesson is None or spec.model_fields_set not in _LESSON_ONLY:
        return spec
    found = lesson_spec(spec.lesson)
    if found is None:
        names = ", ".join(lesson_names())
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "lesson"),
                    "msg": f"there is no lesson {spec.lesson!r}; choose one of: {names}.",
                    "type": "value_error",
                }
            ]
        )
    if "name" in spec.model_fields_set:
        found = found.model_copy(update={"name": spec.name})
    return found


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExperimentRead)
def submit_experiment(
    spec: ExperimentSpec,
    caller: CallerDep,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
) -> Any:
    """Queue a comparison: a lesson by name, or a base run with variants or a grid.

    A name's first use binds it: the answer then carries its token (X-Reglab-Token, and an
    HttpOnly cookie), needed from then on to submit as, cancel or delete as that name.
    """
    with submitting(caller, runtime, request, response) as owner:
        return runtime.scheduler.submit(owner=owner, spec=resolve(spec))


@router.get("", response_model=Page[ExperimentRead])
def list_experiments(
    runtime: RuntimeDep,
    owner: Annotated[str | None, Query(max_length=40)] = None,
    lesson: Annotated[str | None, Query(max_length=80)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Experiments, newest first, optionally of one owner or one lesson."""
    items, total = runtime.store.list_experiments(
        owner=owner, lesson=lesson, offset=offset, limit=limit
    )
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/{experiment_id}", response_model=ExperimentRead)
def read_experiment(experiment: ExperimentDep) -> Any:
    """One experiment with its runs, their statuses and summaries."""
    return experiment


@router.get("/{experiment_id}/metrics", response_class=Response)
def read_history(
    experiment: ExperimentDep,
    runtime: RuntimeDep,
    histories: HistoriesDep,
    request: Request,
    compact: Annotated[bool, Query()] = False,
) -> Response:
    """Every run's epochs as columns ({run_id: {epoch: [...], train_loss: [...], ...}}) and the
    cursor they are complete through: a page opens a finished experiment in one request, then
    follows the stream with ?since=cursor, no epoch twice and none missed.

    compact=true (what the page asks for): float32 columns at their shortest digits, named in
    `float32`; gradient norms of every 20th epoch and the last, their epochs in `grad_epoch`;
    gzipped here, a finished experiment's kept (api/history.py)."""
    if compact:
        zipped = compact_gzip(experiment=experiment, store=runtime.store, cache=histories)
        if "gzip" not in request.headers.get("Accept-Encoding", ""):
            return Response(gzip.decompress(zipped), media_type="application/json")
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(zipped, media_type="application/json", headers=headers)
    cursor, runs = runtime.store.history_columns(experiment.id)
    body = {"experiment_id": experiment.id, "cursor": cursor, "runs": runs}
    return Response(wire_json(body)[1], media_type="application/json")  # encoded once


@router.post(
    "/{experiment_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=Cancelled
)
def cancel_experiment(experiment: ExperimentDep, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Stop every unfinished run of the experiment at its next step (its owner, or an admin)."""
    caller.may_change(experiment.owner, f"Experiment {experiment.id}", "cancel")
    return {"cancelled": runtime.scheduler.cancel_experiment(experiment)}


@router.delete("/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(
    experiment: ExperimentDep, caller: CallerDep, runtime: RuntimeDep
) -> Response:
    """Delete a finished experiment and all it recorded (its owner, or the admin token)."""
    caller.may_change(experiment.owner, f"Experiment {experiment.id}", "delete")
    if experiment.challenge_id is not None and not caller.admin:
        # An entry deleted would be an entry given back: only the teacher removes one.
        raise Conflict(
            f"Experiment {experiment.id} is on challenge {experiment.challenge_id}'s board; "
            "only the teacher (the admin token) may delete it."
        )
    if experiment.status != "finished":
        raise Conflict(f"Experiment {experiment.id} is still {experiment.status}; cancel it first.")
    # Runs elsewhere sharing its numbers keep them (store.Store.delete_experiment). Only a
    # finished experiment is deleted, and a cancelled holder hands a live computation over at
    # once (reglab/sharing.py), so no computation in flight is held by a run deleted here.
    runtime.store.delete_experiment(experiment.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{experiment_id}/clone")
def clone_experiment(experiment: ExperimentDep) -> dict[str, Any]:
    """The experiment's spec, to edit and submit again."""
    return experiment.spec
