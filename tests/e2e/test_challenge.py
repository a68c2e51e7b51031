"""A class in real Chromium: the teacher sets a challenge from `overfitting`, three students enter
it from the page, the teacher's board fills in live, and the reveal re-ranks it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from e2e.conftest import ADMIN_TOKEN, ARTIFACTS, PROBE, settle
from tests.support import Api

STUDENTS = {
    "Ann": {"regularization.l2": "0.01"},
    "Bob": {"regularization.dropout": "0.5"},
    "Cy": {"optimizer.lr": "0.003"},
}


class Tabs:
    """Browser tabs, each its own context (a student's own browser), failing on page errors."""

    def __init__(self, browser: Browser, server: Api) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(self, name: str, *, teacher: bool = False) -> Page:
        context = self.browser.new_context(
            viewport={"width": 1400, "height": 1000}, base_url=self.server.url
        )
        context.add_init_script(f"localStorage.setItem('reglab.user', {name!r})")
        context.add_init_script(PROBE)
        if teacher:  # signed in as the class page does it: an HttpOnly cookie from the server
            signed = context.request.post("/api/admin/session", data={"token": ADMIN_TOKEN})
            assert signed.status == 204, signed.text()
        token = self.server.identity(name)["X-Reglab-Token"]
        context.add_cookies([{"name": "reglab_token", "value": token, "url": self.server.url}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda exc: self.errors.append(f"{name}: {exc}"))

        def console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and "Failed to load resource" not in msg.text:
                self.errors.append(f"{name} console: {msg.text}")

        page.on("console", console)
        self.contexts.append(context)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def tabs(browser: Browser, server: Api) -> Iterator[Tabs]:
    opened = Tabs(browser, server)
    yield opened
    opened.close()
    assert not opened.errors, opened.errors


def shot(page: Page, name: str, selector: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    path = str(ARTIFACTS / f"challenge-{name}.png")
    if selector is None:
        page.screenshot(path=path, full_page=True)
    else:
        page.locator(selector).screenshot(path=path)


# Bounded by the training of 5 baselines and 3 entries × R = 2 seeds of 5 epochs (seconds each,
# on two loaded cores), and the board stream's one-second poll.
SETTLE_MS = 120_000
BOARD_DONE = """(n) => {
  const b = window.reglabProbe.board;
  if (!b) return false;
  const entries = b.rows.filter((r) => r.kind === "entry");
  return entries.length === n && b.rows.every((r) => r.status === "finished" && r.public);
}"""


def test_a_class_enters_a_challenge_and_the_reveal_reranks_the_board(
    tabs: Tabs, server: Api
) -> None:
    teacher = tabs.open("Teacher", teacher=True)
    teacher.goto("/#/challenges")
    teacher.fill("#ch-title", "Tame the overfitting net")
    teacher.select_option("#ch-lesson", "overfitting")
    teacher.fill("#ch-epochs", "5")
    teacher.fill("#ch-repeats", "2")
    teacher.click("#create-challenge")
    teacher.wait_for_url("**/#/challenges/*")
    challenge = int(teacher.url.rsplit("/", 1)[1])
    teacher.wait_for_selector("#board-table")

    for name, fields in STUDENTS.items():
        student = tabs.open(name)
        student.goto(f"/#/challenges/{challenge}")
        student.fill("#entry-name", f"{name} try")
        for path, value in fields.items():
            student.fill(f"#open-{path.replace('.', '-')}", value)
        student.click("#submit-entry")
        student.wait_for_selector("#entries-left:has-text('Entries left: 2 of 3')")

    # The teacher's tab never reloads: the board stream brings the entries as they are scored.
    teacher.wait_for_function(BOARD_DONE, arg=len(STUDENTS), timeout=SETTLE_MS)
    teacher.wait_for_selector("#board-table .entry-row >> nth=2")
    before: dict[str, Any] = teacher.evaluate("window.reglabProbe.board")
    entries = [r for r in before["rows"] if r["kind"] == "entry"]
    assert sorted(r["owner"] for r in entries) == sorted(STUDENTS)
    assert sorted(r["rank"] for r in entries) == [1, 2, 3]
    assert all(r["private"] is None for r in before["rows"])
    assert [r["name"] for r in before["rows"] if r["kind"] == "baseline"] == [
        "simple",
        "medium",
        "strong",
    ]
    assert teacher.locator("#class-plot .main-svg").count() > 0
    # A row's link opens the entry's curves, which say whose challenge it is on.
    entry_page = tabs.open("Ann")
    entry_page.goto(f"/#/experiments/{entries[0]['experiment_id']}")
    entry_page.wait_for_selector("#challenge-link")
    assert "hidden until the reveal" in entry_page.inner_text(".exp-head")
    shot(teacher, "board-before-reveal")
    shot(teacher, "class-picture", "#class-plot")

    teacher.click("#reveal-challenge")
    teacher.wait_for_function("() => window.reglabProbe.board && window.reglabProbe.board.revealed")
    after: dict[str, Any] = teacher.evaluate("window.reglabProbe.board")
    ranked = [r for r in after["rows"] if r["kind"] == "entry"]
    assert sorted(r["private_rank"] for r in ranked) == [1, 2, 3]
    for row in ranked:
        assert row["private"]["n"] == 2
        assert row["rank_change"] == row["rank"] - row["private_rank"]
    teacher.wait_for_selector("#shake-up .main-svg")
    assert teacher.locator("#board-table th:has-text('private #')").count() == 1
    shot(teacher, "board-after-reveal")
    shot(teacher, "shake-up", "#shake-up-panel")
