"""Real Chromium against a real `reglab serve` subprocess (temp SQLite file, 2 workers)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.support import CHROMIUM, CHROMIUM_ARGS, Api, reglab_serve

ARTIFACTS = Path(__file__).parent / "artifacts"
ADMIN_TOKEN = "sesame"
# The page reports what tests read (its state, draw counts, stream, charts) only to a probe
# injected before it loads (frontend/probe.js): a student's page has no test hooks.
PROBE = "window.reglabProbe = {}"


def chart_in(selector: str) -> str:
    """JS for the LiveChart drawing into the element `selector` finds (through the probe)."""
    return f"window.reglabProbe.charts?.get(document.querySelector('{selector}'))"


LOSS_CHART = chart_in("[data-chart=loss]")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One server per test module: starting one (and warming its workers) costs seconds."""
    tmp = tmp_path_factory.mktemp("reglab-e2e")
    with reglab_serve(tmp, REGLAB_ADMIN_TOKEN=ADMIN_TOKEN) as api:
        yield api


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"End-to-end tests need Chromium at {CHROMIUM}: install Debian's chromium "
            "(`sudo apt-get install -y chromium`, or `make browser`), or set REGLAB_CHROMIUM.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def settle(page: Page) -> None:
    """Let the page draw what it still holds (charts wait for a quiet stream) before a shot."""
    page.wait_for_timeout(100)
    with contextlib.suppress(PlaywrightError):
        page.wait_for_function(
            "() => !window.reglabProbe?.drawStats || window.reglabProbe.drawStats.dirty === 0",
            timeout=5000,
        )


@pytest.fixture
def page(browser: Browser, server: Api, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh tab whose user is already named; leaves a screenshot; fails on any script error."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=server.url, accept_downloads=True
    )
    # Ada's name is this browser's: its cookie holds the secret the server bound the name to.
    context.add_init_script("localStorage.setItem('reglab.user', 'Ada')")
    context.add_init_script(PROBE)
    token = server.identity("Ada")["X-Reglab-Token"]
    context.add_cookies([{"name": "reglab_token", "value": token, "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def console(msg: ConsoleMessage) -> None:
        # A 4xx the test provoked on purpose is logged by Chromium as a failed resource load.
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            errors.append(f"console: {msg.text}")

    page.on("console", console)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"the page reported errors: {errors}"
