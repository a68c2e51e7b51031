"""/api/class: the teacher's view of the whole class (who works on what, what waits, what broke).

The actions are the routes that exist already: cancel a student's experiment
(POST /api/experiments/{id}/cancel), free a name (DELETE /api/identity/{name}), cancel
everything (POST /api/admin/cancel-all).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from reglab.api.deps import NAME_PATTERN, CallerDep, RuntimeDep, SeenDep, require_admin
from reglab.jobs.scheduler import TIME_LIMIT, GroupView
from reglab.store import classroom
from reglab.store.records import RunRecord

router = APIRouter(prefix="/api/class", tags=["class"])
_NAME = re.compile(NAME_PATTERN)


class Student(BaseModel):
    """One name: how many experiments, its runs by status, and when it was last seen."""

    name: str
    experiments: int
    entries: int
    queued: int
    running: int
    failed: int
    last_seen: datetime | None


class ClassChallenge(BaseModel):
    """A challenge as the teacher manages it from the class page (open, closed or revealed)."""

    id: int
    title: str
    status: str


class GroupRead(BaseModel):
    """Runs trained together: for whom, of which experiments; `seconds` trained so far."""

    group: str
    owners: list[str]
    experiments: list[int]
    runs: list[str]
    seconds: float | None


class Flagged(BaseModel):
    """A run that needs a look: diverged, failed or stopped by the time limit, and why."""

    run_id: int
    experiment_id: int
    owner: str
    run: str
    status: str
    kind: str
    reason: str


class ClassRead(BaseModel):
    students: list[Student]
    queue: list[GroupRead]
    workers: list[GroupRead]
    slots: int
    flagged: list[Flagged]
    challenges: list[ClassChallenge]


def _groups(views: list[GroupView], runs: dict[int, RunRecord]) -> list[dict[str, Any]]:
    out = []
    for view in views:
        found = [runs[i] for i in view.run_ids if i in runs]
        out.append(
            {
                "group": view.group_id,
                "owners": sorted({r.owner for r in found}),
                "experiments": sorted({r.experiment_id for r in found}),
                "runs": [r.name for r in found],
                "seconds": view.seconds,
            }
        )
    return out


def _kind(run: RunRecord) -> str:
    """diverged, failed, or time limit (a failed run the scheduler's time limit stopped)."""
    return "time limit" if (run.message or "").startswith(TIME_LIMIT) else run.status


@router.get("", response_model=ClassRead)
def read_class(caller: CallerDep, runtime: RuntimeDep, last_seen: SeenDep) -> Any:
    """Every student, the queue, what each worker trains, and the failed or diverged runs."""
    require_admin(caller, runtime.settings, "The class page")
    students = []
    # Experiments a server makes for itself (a poll's, owned by "poll:N") are no student's.
    for s in classroom.roster(runtime.store):
        if not _NAME.match(s.name):
            continue
        moments = [m for m in (s.last_stored, last_seen.get(s.name)) if m is not None]
        students.append({**_fields(s), "last_seen": max(moments, default=None)})
    flight, pending = runtime.scheduler.board()
    ids = {i for view in (*flight, *pending) for i in view.run_ids}
    runs = classroom.runs_by_id(runtime.store, ids)
    flagged = [
        {
            "run_id": r.id,
            "experiment_id": r.experiment_id,
            "owner": r.owner,
            "run": r.name,
            "status": r.status,
            "kind": _kind(r),
            "reason": r.message or "",
        }
        for r in classroom.troubled_runs(runtime.store)
    ]
    return {
        "students": students,
        "queue": _groups(pending, runs),
        "workers": _groups(flight, runs),
        "slots": runtime.scheduler.capacity,
        "flagged": flagged,
        "challenges": [
            {"id": c.id, "title": c.title, "status": c.status}
            for c in runtime.store.list_challenges()
        ],
    }


def _fields(s: classroom.StudentRecord) -> dict[str, Any]:
    return {
        "name": s.name,
        "experiments": s.experiments,
        "entries": s.entries,
        "queued": s.queued,
        "running": s.running,
        "failed": s.failed,
    }


@router.get("/export.csv", response_class=StreamingResponse)
def export_class(caller: CallerDep, runtime: RuntimeDep) -> StreamingResponse:
    """Every run of the class in one CSV: owner, experiment, run, status and its summary."""
    require_admin(caller, runtime.settings, "The class's results")

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(classroom.RESULT_COLUMNS)
        for row in classroom.results(runtime.store):
            writer.writerow(row)
            if out.tell() > 64_000:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    headers = {"Content-Disposition": 'attachment; filename="reglab-class.csv"'}
    return StreamingResponse(lines(), media_type="text/csv", headers=headers)
