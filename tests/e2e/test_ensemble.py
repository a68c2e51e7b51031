"""The dropout-ensemble lesson's finished experiment in real Chromium: the thinned nets on the
input plane, the validation losses and the mean differences, in English and in both Chinese
scripts (screenshots of the panel in tests/e2e/artifacts)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import ARTIFACTS, settle
from e2e.test_i18n import check_language, localized
from tests.support import Api

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HEATMAPS = {"dropout": 4 + 5, "linear": 5 + 5}  # scaled + 3 thinned (+ exact); 5 averages


@pytest.fixture(scope="module")
def finished(server: Api) -> dict[str, Any]:
    created = server.submit({"lesson": "dropout-ensemble"}, user="Ada")
    return server.wait_finished(created["id"])


def _pictures_drawn(page: Page) -> None:
    panel = page.locator(".ensemble-panel")
    panel.scroll_into_view_if_needed()
    for variant, heatmaps in HEATMAPS.items():
        row = panel.locator(f'.ensemble-variant[data-variant="{variant}"]')
        plane = row.locator(f'[data-chart="ensemble-plane-{variant}"]')
        # The snapshots arrive by REST after the page is drawn: wait for the pictures.
        expect(plane.locator(".heatmaplayer .hm")).to_have_count(heatmaps, timeout=30_000)
        # The scaled net and the five averages of the last epoch, each line a trace.
        expect(
            row.locator(f'[data-chart="ensemble-loss-{variant}"] .scatterlayer .trace')
        ).to_have_count(6)
        expect(
            row.locator(f'[data-chart="ensemble-diff-{variant}"] .scatterlayer .trace')
        ).to_have_count(1)


def _shot(page: Page, name: str) -> None:
    """The panel, cut from a full-page shot taken from the top: scrolled down, the sticky
    header covers part of it."""
    page.evaluate("() => scrollTo(0, 0)")  # the sticky header back at the page's top
    settle(page)
    box = page.evaluate(
        """() => { const r = document.querySelector('.ensemble-panel').getBoundingClientRect();
        return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }"""
    )
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, clip=box)


def test_the_lessons_page_pictures_thinned_nets_their_averages_and_losses(
    page: Page, finished: dict[str, Any]
) -> None:
    page.goto(f"/#/experiments/{finished['id']}")
    _pictures_drawn(page)
    panel = page.locator(".ensemble-panel")
    dropout = panel.locator('.ensemble-variant[data-variant="dropout"]')
    titles = dropout.locator(
        '[data-chart="ensemble-plane-dropout"] .annotation-text'
    ).all_text_contents()
    assert titles[:4] == ["scaled full net", "thinned net 1", "thinned net 2", "thinned net 3"]
    assert [t.split(" · ")[0] for t in titles[4:]] == [
        f"average of {n}" for n in (1, 4, 16, 64, 256)
    ]
    # The mean difference each title shows falls as N grows (the lesson's first claim, seed 0).
    diffs = [float(t.split("Δ ")[1]) for t in titles[4:]]
    assert diffs == sorted(diffs, reverse=True) and diffs[-1] < diffs[0] / 2
    linear = panel.locator('.ensemble-variant[data-variant="linear"]')
    expect(linear.locator(".ensemble-note")).to_contain_text("all 4 thinned nets")
    names = dropout.locator('[data-chart="ensemble-loss-dropout"] .legendtext').all_text_contents()
    assert names[:3] == ["scaled net", "single thinned net", "average of 4"]
    _shot(page, "dropout_ensemble_en")


@pytest.mark.parametrize(("locale", "lang"), [("zh-TW", "zh-TW"), ("zh-CN", "zh-CN")])
def test_the_thinned_nets_panel_speaks_each_chinese_script(
    browser: Browser, server: Api, finished: dict[str, Any], locale: str, lang: str
) -> None:
    with localized(browser, server, locale, f"dropout_ensemble_page_{lang}") as page:
        page.goto(f"/#/experiments/{finished['id']}")
        _pictures_drawn(page)
        check_language(page, lang, "the dropout-ensemble experiment")
        _shot(page, f"dropout_ensemble_{lang}")
