"""Shared runs in a real Chromium: a run served from an identical earlier one says so, links to
it, and can replay its curves growing (a server with REGLAB_SHARE_RUNS on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import ADMIN_TOKEN, ARTIFACTS, LOSS_CHART
from tests.support import Api, reglab_serve, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EPOCHS = 60
DRAWN = f"""() => Object.fromEntries(Object.entries(
    {LOSS_CHART}?.drawnCounts() || {{}})
    .filter(([name]) => name.endsWith(' · train')))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """This module's server computes identical runs once (the other modules' servers do not)."""
    tmp = tmp_path_factory.mktemp("reglab-e2e-shared")
    with reglab_serve(tmp, REGLAB_ADMIN_TOKEN=ADMIN_TOKEN, REGLAB_SHARE_RUNS="true") as api:
        yield api


def body() -> dict[str, Any]:
    return {
        "name": "computed once",
        "base": {
            "data": {"kind": "moons", "n_train": 80, "seed": 5},
            "model": {"hidden": [16]},
            "train": {"epochs": EPOCHS, "batch_size": 40, "snapshot_every": 20},
        },
        "variants": [
            {"name": "none"},
            {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
        ],
    }


def test_a_shared_run_links_its_source_and_replays_its_curves(page: Page, server: Api) -> None:
    first = server.submit(body(), user="Ada")
    server.wait_finished(first["id"])
    second = server.submit(body(), user="Bob")
    finished = server.wait_finished(second["id"])
    sources = {r["name"]: r["id"] for r in first["runs"]}
    assert {r["name"]: r["shared_from"] for r in finished["runs"]} == sources

    page.goto(f"/#/experiments/{second['id']}")
    expect(page.locator(".conn")).to_have_text("finished", timeout=30_000)
    for run in finished["runs"]:
        note = page.locator(f'tr[data-run="{run["id"]}"] .shared-note')
        expect(note).to_have_text(f"computed once — same numbers as run {run['shared_from']}")
        link = note.locator("a")
        expect(link).to_have_attribute("href", f"#/experiments/{first['id']}")
    full = {f"{r['name']} · train": r["summary"]["epochs_run"] for r in finished["runs"]}
    wait_for(lambda: page.evaluate(DRAWN) == full, 10, "every epoch on the loss chart")
    page.locator(".table-panel").screenshot(path=str(ARTIFACTS / "shared_runs_table.png"))

    # Replay: the loss chart starts empty and grows back to every epoch at a watchable pace.
    page.click("#replay")
    expect(page.locator(".conn")).to_have_text("▶ replay")
    seen: list[int] = []
    shot = False
    while page.locator(".conn").inner_text() == "▶ replay":
        drawn = page.evaluate(DRAWN)
        seen.append(min(drawn.values(), default=0))
        if not shot and seen[-1] >= EPOCHS // 2:
            page.screenshot(path=str(ARTIFACTS / "shared_runs_replay.png"), full_page=True)
            shot = True
        page.wait_for_timeout(100)
    growing = [n for n in seen if 0 < n < EPOCHS]
    assert len(set(growing)) >= 3, f"the replay did not grow the curves: {seen}"
    assert seen == sorted(seen), f"a replayed curve shrank: {seen}"
    expect(page.locator(".conn")).to_have_text("finished")
    wait_for(lambda: page.evaluate(DRAWN) == full, 10, "the replay ending on every epoch")
    assert page.evaluate("window.reglabProbe.state.experiment.duplicates") == 0

    # The link opens the experiment that computed the numbers.
    page.locator(".shared-note a").first.click()
    page.wait_for_url(f"**/#/experiments/{first['id']}")
    expect(page.locator("h1")).to_have_text(first["name"])
    expect(page.locator(".shared-note")).to_have_count(0)
