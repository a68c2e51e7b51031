"""/api/health, /api/lessons, /api/statuses, /api/metrics and /api/schema: what a client asks
first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from reglab.api.deps import RuntimeDep
from reglab.api.lessons import all_lessons
from reglab.api.schemas import Health, Lesson, Metrics, Statuses
from reglab.events import RunStatus
from reglab.metrics import METRICS
from reglab.spec import ExperimentSpec, RunSpec

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
async def health(runtime: RuntimeDep) -> Any:
    """Alive, with the executor's size and the scheduler's queue."""
    # On the event loop (two counters under short locks): it never waits for a worker thread,
    # so a server busy with slow clients still answers.
    executor = runtime.executor
    ready = executor.ready_workers()
    return {
        "status": "ok",
        "executor": runtime.settings.executor,
        "workers": executor.slots,
        "workers_ready": ready,
        **runtime.scheduler.counts(),
    }


@router.get("/lessons", response_model=list[Lesson])
def lessons() -> Any:
    """The lecture's lessons; submit one with POST /api/experiments {"lesson": name}."""
    return all_lessons()


@router.get("/statuses", response_model=Statuses)
def statuses() -> Any:
    """Every run status, and which of them are final (the run will not train again)."""
    return {
        "statuses": [s.value for s in RunStatus],
        "final": [s.value for s in RunStatus if s.is_final],
    }


@router.get("/metrics", response_model=Metrics)
def metrics() -> Any:
    """Every per-epoch metric in order: its name (the key in epoch events and metric rows),
    what it means, whether it is one number per layer, and whether it may be null."""
    return {"metrics": [m.to_dict() for m in METRICS]}


@router.get("/schema/run-spec")
def run_spec_schema() -> dict[str, Any]:
    """JSON schema of a run spec (fields, defaults, bounds, units), to build a form from."""
    return RunSpec.model_json_schema()


@router.get("/schema/experiment-spec")
def experiment_spec_schema() -> dict[str, Any]:
    """JSON schema of an experiment spec (base + variants or grid)."""
    return ExperimentSpec.model_json_schema()
