"""The standalone HTML report, opened from a file in real Chromium with every network request
refused: plotly.js inside it draws each run's curves in each panel (no plotly Python package)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route
from reglab.api.report import render_report
from reglab.store.records import ExperimentRecord, MetricRow, RunRecord

from tests.support import a_run

pytestmark = [pytest.mark.e2e]

WHEN = datetime(2026, 11, 29, 9, 30)


def run(run_id: int, name: str) -> RunRecord:
    return a_run(
        id=run_id,
        experiment_id=7,
        position=run_id,
        name=name,
        variant=name,
        epochs=3,
        at=WHEN,
        summary={"best_epoch": 2, "best_val_loss": 0.25},
    )


def row(run_id: int, epoch: int, val_loss: float, val_acc: float | None) -> MetricRow:
    return MetricRow(
        run_id=run_id,
        epoch=epoch,
        train_loss=1.0 / epoch,
        val_loss=val_loss,
        train_acc=None,
        val_acc=val_acc,
        lr=0.1,
        weight_l1=None,
        weight_l2=None,
        sparsity=None,
        step_size=None,
        seconds=0.01,
        grad_norms=[],
    )


def report_file(tmp_path: Path, with_accuracy: bool) -> Path:
    experiment = ExperimentRecord(
        id=7,
        name="</script><b>overfit</b>",
        description="two runs",
        lesson=None,
        owner="ada",
        spec={},
        created_at=WHEN,
        runs=[run(1, "plain"), run(2, "l2=0.01")],
    )
    acc = 0.5 if with_accuracy else None
    metrics = {
        1: [row(1, e, 1.0 / e, acc) for e in (1, 2, 3)],
        # A diverged epoch: NaN is a gap in the line, not a script error.
        2: [row(2, 1, 0.9, acc), row(2, 2, float("nan"), acc), row(2, 3, 0.4, acc)],
    }
    path = tmp_path / "report.html"
    path.write_text(render_report(experiment, metrics), encoding="utf-8")
    return path


@pytest.mark.parametrize(("with_accuracy", "panels"), [(False, 2), (True, 3)])
def test_report_draws_every_run_in_every_panel_offline(
    browser: Browser, tmp_path: Path, with_accuracy: bool, panels: int
) -> None:
    path = report_file(tmp_path, with_accuracy)
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def refuse(route: Route) -> None:
        requests.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("#reglab-report-plot .main-svg", timeout=20_000)
        traces = page.locator("#reglab-report-plot .scatterlayer .trace").count()
        titles = page.locator("#reglab-report-plot .annotation-text").all_text_contents()
        legend = page.locator("#reglab-report-plot .legendtext").all_text_contents()
        heading = page.locator("h1").inner_text()
    finally:
        page.close()

    assert errors == [] and requests == []
    assert traces == 2 * panels
    expected = ["Training loss", "Validation loss", "Validation accuracy"][:panels]
    assert titles == expected
    assert legend == ["plain", "l2=0.01"]
    assert "</script><b>overfit</b>" in heading
