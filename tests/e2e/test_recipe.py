"""The lecture's recipe on the page: the gallery's two branches and a run's diagnosis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import ARTIFACTS, settle
from tests.support import Api

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

THUMBS = Path(__file__).resolve().parents[2] / "frontend" / "lesson-thumbs.json"


def test_the_gallery_puts_each_lesson_under_its_branch_with_its_own_thumbnail(page: Page) -> None:
    page.goto("/")
    branches = page.locator("section[data-branch]")
    expect(branches).to_have_count(2)
    assert [branches.nth(i).get_attribute("data-branch") for i in range(2)] == [
        "training",
        "overfitting",
    ]
    training = branches.nth(0).locator(".lesson-card")
    expect(training).to_have_count(2)
    assert training.evaluate_all("cards => cards.map(c => c.dataset.lesson)") == [
        "vanishing-gradients",
        "optimizers",
    ]
    causes = branches.nth(0).locator("h3[data-cause]")
    assert causes.evaluate_all("hs => hs.map(h => h.dataset.cause)") == [
        "vanishing-gradients",
        "learning-rate",
        "plateau",
    ]
    remedies = branches.nth(1).locator("h3[data-cause]")
    assert remedies.evaluate_all("hs => hs.map(h => h.dataset.cause)") == [
        "early-stopping",
        "regularization",
        "dropout",
    ]
    cards = page.locator(".lesson-card")
    names = cards.evaluate_all("cards => cards.map(c => c.dataset.lesson)")
    lessons = {lesson["name"] for lesson in page.request.get("/api/lessons").json()}
    assert sorted(names) == sorted(lessons)  # every lesson once
    # Each card draws its own lesson's curves (one line per variant, or a sweep's points).
    thumbs = json.loads(THUMBS.read_text())
    drawn = {}
    for name in names:
        card = page.locator(f'.lesson-card[data-lesson="{name}"]')
        lines = card.locator("svg.thumb path")
        thumb = thumbs[name]
        expect(lines).to_have_count(len(thumb["curves"]) if thumb["kind"] == "curves" else 1)
        drawn[name] = lines.first.get_attribute("d")
    assert len(set(drawn.values())) == len(drawn), "two lessons share a thumbnail"


def test_a_finished_run_shows_its_diagnosis_its_lesson_and_tries_the_remedy(
    page: Page, server: Api
) -> None:
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    spec = json.loads(json.dumps(lessons["vanishing-gradients"]["spec"]))
    spec["base"]["train"] |= {"epochs": 6, "snapshot_every": 3}
    spec["base"]["data"]["n_train"] = 60
    created = server.submit(spec, user="Ada")
    server.wait_finished(created["id"])
    page.goto(f"/#/experiments/{created['id']}")
    sigmoid = page.locator('.diagnosis[data-variant="sigmoid"]')
    expect(sigmoid).to_have_attribute("data-cause", "vanishing-gradients")
    expect(sigmoid).to_contain_text("bad on the training data")
    expect(page.locator(".diagnosis-whole")).to_contain_text("bad on the training data: sigmoid")
    settle(page)
    page.locator(".diagnosis-panel").screenshot(path=str(ARTIFACTS / "diagnosis_panel.png"))

    sigmoid.locator('button[data-remedy="relu"]').click()
    expect(page).to_have_url(re.compile(r"#/new\?setup="))
    # The form holds the same setup as the run (sigmoid, 6 layers) and the remedy as a variant.
    expect(page.locator("#f-model-activation")).to_have_value("sigmoid")
    variant = page.locator('[data-path="variants.1.override.model.activation"]')
    expect(variant).to_have_value("relu")
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "diagnosis_try_the_remedy.png"), full_page=True)

    page.go_back()
    link = page.locator('.diagnosis[data-variant="sigmoid"] a.diagnosis-lesson')
    expect(link).to_have_attribute("href", "#/lessons?lesson=vanishing-gradients")
    link.click()
    expect(page.locator('.lesson-card.focused[data-lesson="vanishing-gradients"]')).to_be_visible()


def test_l1_against_l2_by_weight_size_draws_the_crossing_and_each_third(
    page: Page, server: Api
) -> None:
    created = server.submit({"lesson": "l1-vs-l2"}, user="Ada")
    server.wait_finished(created["id"])
    page.goto(f"/#/experiments/{created['id']}")
    panel = page.locator(".shrink-panel")
    expect(panel).to_contain_text("λ1/λ2 = 0.5")
    # The crossing is drawn, and each of the three thirds under l1 and under l2 (ten snapshots
    # and the start: 11 points each) once the snapshots are in.
    expect(panel.locator('[data-chart="shrink"] .scatterlayer .trace')).to_have_count(4)
    panel.scroll_into_view_if_needed()
    expect(panel.locator('[data-chart="thirds"] .scatterlayer .trace')).to_have_count(6)
    names = panel.locator('[data-chart="thirds"] .legendtext').all_text_contents()
    assert "l1 · small third" in names and "l2 · large third" in names
    expect(panel.locator(".shrink-where")).to_contain_text("below the crossing")
    settle(page)
    panel.screenshot(path=str(ARTIFACTS / "l1_vs_l2_by_weight_size.png"))
