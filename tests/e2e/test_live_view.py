"""The live comparison view in a real Chromium: curves grow, markers, cancel, reload and resume."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import LOSS_CHART
from tests.support import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Points of each run's training-loss line on screen (Plotly's and the live canvas layer's together).
TRAIN_POINTS = f"""() => Object.fromEntries(Object.entries(
    {LOSS_CHART}?.drawnCounts() || {{}})
    .filter(([name]) => name.endsWith(' · train')).map(([name, n]) => [name.slice(0, -8), n]))"""
# Once synced, every point is in Plotly's figure too (what hover and the export of the figure see).
SYNCED = f"() => {LOSS_CHART}.settled()"
LOSS_XS = """() => Object.fromEntries(document.querySelector('[data-chart=loss]').data
    .filter((t) => t.mode === 'lines' && !t.fill).map((t) => [t.name, t.x]))"""
MARKERS = """() => { const d = document.querySelector('[data-chart=loss]').data;
    const m = (n) => d.find((t) => t.name === n); return {best: m('best validation').x.length,
    stop: m('early stop').x.length, stopNames: m('early stop').text}; }"""
# Each trace of every Plotly figure on the page: the type it asks for and the type Plotly drew.
TRACE_TYPES = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((gd) =>
    (gd._fullData || []).map((t) => [t._input.type || 'scatter', t.type]))"""


def slow_body(name: str, epochs: int) -> dict[str, Any]:
    """Three runs in one group, slow enough (~40 ms an epoch) to act on them mid-run."""
    return {
        "name": name,
        "base": {
            "data": {"n_train": 1000},
            "model": {"hidden": [64, 64]},
            "train": {"epochs": epochs, "batch_size": 32},
        },
        "variants": [
            {"name": "plain", "override": {}},
            {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
            {"name": "dropout", "override": {"regularization": {"dropout": 0.3}}},
        ],
    }


def test_overfitting_lesson_draws_every_run_growing_and_marks_early_stopping(
    page: Page, server: Api
) -> None:
    page.goto("/#/lessons")
    page.click('[data-lesson="overfitting"] button.primary')
    page.wait_for_url(re.compile(r"#/experiments/\d+"))
    launched = server.experiment(int(page.url.rsplit("/", 1)[1]))
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    shipped = lessons["overfitting"]["spec"]
    assert len(launched["runs"]) == len(shipped["variants"]) * shipped["repeats"]
    server.http.post(f"/api/experiments/{launched['id']}/cancel")
    # One run per variant (the lesson ships with 5 replicates, drawn as bands: tests/e2e/
    # test_repeats.py): every run's own curve grows live.
    created = server.submit({**shipped, "lesson": "overfitting", "repeats": 1})
    experiment_id = created["id"]
    page.goto(f"/#/experiments/{experiment_id}")
    page.reload()  # a fresh page: the lesson's first view counts no plot of this one
    runs = [r["name"] for r in created["runs"]]
    page.wait_for_selector("#cancel-all")  # the view is built (is_hidden is true before)

    seen: dict[str, set[int]] = {name: set() for name in runs}
    plots_at_start = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        counts = page.evaluate(TRAIN_POINTS)
        for name, n in counts.items():
            seen[name].add(n)
        if plots_at_start is None and all(counts.values()):
            plots_at_start = page.evaluate("window.reglabProbe.drawStats.newPlots")
        if page.locator("#cancel-all").is_hidden():
            break
        page.wait_for_timeout(100)
    # Growth seen while training ran: several distinct lengths per run that trained all its
    # epochs, not one jump at the end. (A run early stopping ended within a second may be over
    # before the page first draws it; that it is drawn to its last epoch is checked below.)
    epochs_run = {
        r["name"]: r["summary"]["epochs_run"] for r in server.wait_finished(experiment_id)["runs"]
    }
    full = shipped["base"]["train"]["epochs"]
    assert sum(n == full for n in epochs_run.values()) >= 3
    for name, lengths in seen.items():
        drawn = lengths - {0}
        if epochs_run[name] == full:
            assert len(drawn) >= 3, f"{name}: the curve did not grow live ({sorted(drawn)})"
    # Drawn once, then extended: no chart was rebuilt while epochs streamed in.
    assert page.evaluate("window.reglabProbe.drawStats.newPlots") == plots_at_start

    expect(page.locator('tr[data-status="stopped_early"]').first).to_be_visible()
    # Markers reach Plotly with the chart's next sync (0.4 s after the stream goes quiet): one
    # run that stopped early may be drawn a sync before the other.
    markers = wait_for(
        lambda: "early-stopping" in (m := page.evaluate(MARKERS))["stopNames"] and m,
        10,
        "the early-stopping run's stop marker",
    )
    assert markers["best"] == len(runs)
    stopped = server.experiment(experiment_id)
    for run in stopped["runs"]:
        drawn = page.evaluate(TRAIN_POINTS)[run["name"]]
        assert drawn == run["summary"]["epochs_run"], f"{run['name']}: drew {drawn} epochs"

    # The table sorts by a column; the log-scale toggle switches the loss axis.
    page.click('button[data-sort="best_val_loss"]')
    shown = page.locator('tbody tr td[data-col="best_val_loss"]').all_inner_texts()
    assert [float(v) for v in shown] == sorted(float(v) for v in shown)
    page.check("#log-scale")
    axis_type = "document.querySelector('[data-chart=loss]').layout.yaxis.type"
    assert page.evaluate(axis_type) == "log"

    # Every figure is drawn as the trace type it asks for: the plotly.js the package ships is a
    # bundle of our own (frontend/plotly/entry.js), and Plotly draws a type it does not hold as a
    # scatter, silently. The pictures under the fold (boundaries: heatmap, histograms: bar) too.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")

    def every_type_drawn() -> list[tuple[str, str]] | None:
        types = page.evaluate(TRACE_TYPES)
        return types if {"scatter", "bar", "heatmap"} <= {asked for asked, _ in types} else None

    types = wait_for(every_type_drawn, 20, "the pictures' heatmaps and bars")
    assert [(asked, drawn) for asked, drawn in types if asked != drawn] == []


def test_cancel_one_run_marks_it_and_the_others_go_on(page: Page, server: Api) -> None:
    created = server.submit(slow_body("cancel one", 400), user="Ada")
    victim = created["runs"][1]
    page.goto(f"/#/experiments/{created['id']}")
    wait_for(lambda: page.evaluate(TRAIN_POINTS).get("l2", 0) >= 5, 30, "a few epochs of l2")
    page.click(f'[data-cancel="{victim["id"]}"]')
    row = page.locator(f'tr[data-run="{victim["id"]}"]')
    expect(row.locator(".badge")).to_have_text("cancelled", timeout=15_000)
    expect(row.locator("[data-cancel]")).to_be_hidden()
    stopped_at = page.evaluate(TRAIN_POINTS)["l2"]
    wait_for(lambda: page.evaluate(TRAIN_POINTS)["plain"] > stopped_at + 10, 30, "others going on")
    assert page.evaluate(TRAIN_POINTS)["l2"] == stopped_at
    page.click("#cancel-all")
    expect(page.locator(".badge", has_text="cancelled")).to_have_count(3, timeout=15_000)
    server.wait_finished(created["id"])


def test_reload_and_dropped_socket_show_the_whole_history_exactly_once(
    page: Page, server: Api
) -> None:
    created = server.submit(slow_body("resume", 150), user="Ada")
    page.goto(f"/#/experiments/{created['id']}")
    wait_for(lambda: min(page.evaluate(TRAIN_POINTS).values() or [0]) >= 10, 30, "some epochs")
    page.reload()
    wait_for(lambda: min(page.evaluate(TRAIN_POINTS).values() or [0]) >= 40, 30, "more epochs")
    page.evaluate("window.reglabProbe.stream.drop()")  # as a flaky classroom network would
    expect(page.locator(".conn")).to_have_text("finished", timeout=60_000)
    finished = server.wait_finished(created["id"])
    wait_for(lambda: page.evaluate(SYNCED), 10, "the loss chart's last sync")
    xs = page.evaluate(LOSS_XS)
    for run in finished["runs"]:
        epochs = list(range(1, run["summary"]["epochs_run"] + 1))
        for series in ("train", "validation"):
            drawn = xs[f"{run['name']} · {series}"]
            assert drawn == epochs, f"{run['name']} {series}: gap or duplicate in {drawn}"
    assert page.evaluate("window.reglabProbe.state.experiment.duplicates") == 0
    assert page.evaluate("window.reglabProbe.stream.reconnects") >= 1


def test_a_finished_experiment_opens_from_one_history_request_and_no_replay(
    page: Page, server: Api
) -> None:
    created = server.submit(slow_body("reopen", 30), user="Ada")
    finished = server.wait_finished(created["id"])
    history = server.http.get(f"/api/experiments/{created['id']}/metrics").json()
    requests: list[str] = []
    sockets: list[str] = []
    epochs_streamed: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    def on_socket(ws: Any) -> None:
        sockets.append(ws.url)
        ws.on("framereceived", lambda f: epochs_streamed.extend([f] if '"epoch"' in f else []))

    page.on("websocket", on_socket)
    page.goto(f"/#/experiments/{created['id']}")
    expect(page.locator(".conn")).to_have_text("finished", timeout=30_000)
    wait_for(lambda: page.evaluate(SYNCED), 10, "the loss chart's last sync")

    xs = page.evaluate(LOSS_XS)
    for run in finished["runs"]:
        epochs = list(range(1, run["summary"]["epochs_run"] + 1))
        assert xs[f"{run['name']} · train"] == epochs
    # One history request (early.js's, taken by the page), the compact one. (`api/metrics` is the
    # list of declared metrics, which the page checks its chart rows against, not a history.)
    paths = [url.split("/", 3)[3] for url in requests]
    assert [p for p in paths if "metrics" in p and p != "api/metrics"] == [
        f"api/experiments/{created['id']}/metrics?compact=true"
    ], paths
    # Its float32 numbers, at their shortest digits, rounded back to exactly what is stored.
    held = page.evaluate(
        "Object.fromEntries(window.reglabProbe.state.experiment.runs.map((r) => [r.id, "
        "r.epochs.map((e) => [e.train_loss, e.val_loss, e.step_size, e.weight_l2])]))"
    )
    for run_id, columns in history["runs"].items():
        names = ("train_loss", "val_loss", "step_size", "weight_l2")
        stored = zip(*(columns[k] for k in names), strict=True)
        assert held[run_id] == [list(row) for row in stored]
    # The stream starts after the history's cursor: nothing of it comes again.
    assert sockets and all(f"since={history['cursor']}" in url for url in sockets), sockets
    assert history["cursor"] > 0 and not epochs_streamed
    assert page.evaluate("window.reglabProbe.state.experiment.duplicates") == 0
