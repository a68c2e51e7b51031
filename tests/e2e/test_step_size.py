"""The step-size chart in a real Chromium: the optimizers lesson's claims are about its lines."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import ARTIFACTS, chart_in, settle
from tests.support import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STEP = "[data-chart=step]"
SYNCED = f"() => {chart_in(STEP)}?.settled()"
LINES = f"""() => document.querySelector('{STEP}').data
    .filter((t) => t.mode === 'lines' && !t.fill).map((t) => ({{name: t.name, x: t.x, y: t.y}}))"""


def short_optimizers(server: Api) -> dict[str, Any]:
    """The optimizers lesson as shipped, one seed per variant and a few epochs on less data."""
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    body: dict[str, Any] = dict(lessons["optimizers"]["spec"])
    base = dict(body["base"])
    base["data"] = {**base["data"], "n_train": 120}
    base["train"] = {**base["train"], "epochs": 12, "snapshot_every": 6}
    return {**body, "base": base, "repeats": 1, "lesson": "optimizers"}


def test_optimizers_lesson_draws_each_variants_step_size_on_a_log_axis(
    page: Page, server: Api
) -> None:
    created = server.submit(short_optimizers(server), user="Ada")
    page.goto(f"/#/experiments/{created['id']}")
    expect(page.locator(".conn")).to_have_text("finished", timeout=180_000)
    finished = server.wait_finished(created["id"])
    chart = page.locator(STEP)
    chart.scroll_into_view_if_needed()
    expect(chart).to_contain_text("Step size per update")
    wait_for(lambda: page.evaluate(SYNCED), 30, "the step-size chart's last sync")

    axis = page.evaluate(f"document.querySelector('{STEP}').layout.yaxis.type")
    assert axis == "log"
    lines = {line["name"]: line for line in page.evaluate(LINES)}
    runs = finished["runs"]
    assert sorted(lines) == sorted(r["name"] for r in runs), "one line per variant"
    for run in runs:
        stored = server.http.get(f"/api/runs/{run['id']}/metrics").json()
        assert stored, run["name"]
        line = lines[run["name"]]
        assert line["x"] == [row["epoch"] for row in stored]
        # Both sides are the float64 the server sent: equal after the JSON round trip.
        assert line["y"] == [row["step_size"] for row in stored]
        assert all(v > 0 for v in line["y"])
    # The log-scale toggle is for loss and weight norm: the step-size axis stays logarithmic.
    page.check("#log-scale")
    page.uncheck("#log-scale")
    assert page.evaluate(f"document.querySelector('{STEP}').layout.yaxis.type") == "log"
    settle(page)
    chart.screenshot(path=str(ARTIFACTS / "step_size_chart.png"))
