"""/api/experiments/{id}/export.csv|.json and report.html: an experiment taken home."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, fields
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from reglab.api.deps import ExperimentDep, RuntimeDep
from reglab.api.report import render_report
from reglab.api.schemas import ExperimentRead
from reglab.store.codec import to_wire
from reglab.store.records import MetricRow

router = APIRouter(prefix="/api/experiments", tags=["exports"])


def _metrics(runtime: RuntimeDep, experiment: ExperimentDep) -> dict[int, list[MetricRow]]:
    return {run.id: runtime.store.metrics(run.id, limit=100_000) for run in experiment.runs}


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/{experiment_id}/export.csv", response_class=Response)
def export_csv(experiment: ExperimentDep, runtime: RuntimeDep) -> Response:
    """One row per run and epoch: the run's name and every metric."""
    out = io.StringIO()
    columns = [f.name for f in fields(MetricRow) if f.name != "grad_norms"]
    writer = csv.writer(out)
    writer.writerow(["experiment_id", "run_name", "variant", "replicate", *columns, "grad_norms"])
    runs = {run.id: run for run in experiment.runs}
    for run_id, rows in _metrics(runtime, experiment).items():
        run = runs[run_id]
        for row in rows:
            values = asdict(row)
            grads = ";".join(str(g) for g in row.grad_norms)
            who = [experiment.id, run.name, run.variant, run.replicate]
            writer.writerow([*who, *(values[c] for c in columns), grads])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers=_attachment(f"reglab-experiment-{experiment.id}.csv"),
    )


@router.get("/{experiment_id}/export.json")
def export_json(experiment: ExperimentDep, runtime: RuntimeDep) -> Any:
    """The experiment, its runs with summaries, and every run's metrics by run id."""
    metrics = {
        str(run_id): [asdict(r) for r in rows]
        for run_id, rows in _metrics(runtime, experiment).items()
    }
    body = ExperimentRead.model_validate(experiment).model_dump(mode="json")
    return to_wire({"experiment": body, "metrics": metrics})


@router.get("/{experiment_id}/report.html", response_class=HTMLResponse)
def export_report(experiment: ExperimentDep, runtime: RuntimeDep) -> HTMLResponse:
    """A standalone HTML report (Plotly curves, summary table) that opens offline."""
    page = render_report(experiment, _metrics(runtime, experiment))
    return HTMLResponse(page, headers=_attachment(f"reglab-experiment-{experiment.id}.html"))
