"""A class: the teacher signs in, three students predict, all watch, each sees the verdict."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import ADMIN_TOKEN, ARTIFACTS, LOSS_CHART, PROBE, settle
from tests.support import Api, wait_for

GUESSES = {"Ana": "l1", "Ben": "none", "Cai": "l1"}
# Points drawn on the loss chart, all runs together: the live view's own count.
DRAWN = f"""() => Object.values(
    {LOSS_CHART}?.drawnCounts() || {{}})
    .reduce((a, b) => a + b, 0)"""


@pytest.fixture
def contexts(browser: Browser, server: Api) -> Iterator[dict[str, BrowserContext]]:
    """One browser context each (their own cookies and storage): the teacher and three students."""
    made: dict[str, BrowserContext] = {}
    for name in ("Teacher", *GUESSES):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
        context.add_init_script(f"localStorage.setItem('reglab.user', '{name}')")
        context.add_init_script(PROBE)
        token = server.identity(name)["X-Reglab-Token"]
        context.add_cookies([{"name": "reglab_token", "value": token, "url": server.url}])
        made[name] = context
    yield made
    for context in made.values():
        context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def watch_errors(page: Page, errors: list[str]) -> Page:
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return page


def test_a_class_predicts_watches_and_sees_guess_against_outcome(
    contexts: dict[str, BrowserContext], server: Api
) -> None:
    errors: list[str] = []
    teacher = watch_errors(contexts["Teacher"].new_page(), errors)
    teacher.goto("/#/class")
    expect(teacher.locator("#nav-class")).to_be_hidden()
    teacher.fill("#admin-token", ADMIN_TOKEN)
    teacher.click("#sign-in button[type=submit]")
    expect(teacher.locator("#students")).to_be_visible()
    expect(teacher.locator("#nav-class")).to_be_visible()
    assert ADMIN_TOKEN not in teacher.evaluate(
        "JSON.stringify({...localStorage, ...sessionStorage})"
    )

    teacher.select_option("#poll-lesson", "overfitting")
    teacher.select_option("#poll-question", "lowest-final-val-loss")
    teacher.fill("#poll-epochs", "20")  # a few epochs: the class watches seconds, not minutes
    teacher.fill("#poll-seeds", "3")
    teacher.click("#poll-form button[type=submit]")
    teacher.wait_for_url("**/#/polls/*")
    poll_id = teacher.url.rsplit("/", 1)[1]
    expect(teacher.locator("#poll-count")).to_have_text("0 answers so far.")

    students: dict[str, Page] = {}
    for name, guess in GUESSES.items():
        page = watch_errors(contexts[name].new_page(), errors)
        page.goto(f"/#/polls/{poll_id}")
        expect(page.locator("#poll-choices button")).to_have_count(6)
        assert page.locator("[data-chart]").count() == 0  # no curve before the guess
        page.click(f'#poll-choices [data-choice="{guess}"]')
        expect(page.locator("#poll-mine")).to_contain_text(f"Your guess: {guess}.")
        students[name] = page
    expect(teacher.locator("#poll-count")).to_have_text("3 answers so far.", timeout=10_000)
    shot(students["Ana"], "poll_before_outcome")
    shot(teacher, "poll_teacher_before_start")

    teacher.click("#poll-start")
    for page in students.values():  # the same live curves on every page
        wait_for(lambda p=page: p.evaluate(DRAWN) > 0, 60, "curves on a student's page")

    spread = {c: list(GUESSES.values()).count(c) for c in ("none", "l1")}
    for name, page in students.items():
        expect(page.locator("#poll-outcome")).to_be_visible(timeout=90_000)
        expect(page.locator("#poll-verdict")).to_contain_text(GUESSES[name])
        for choice, n in spread.items():
            row = page.locator(f'#poll-spread [data-choice="{choice}"] .spread-count')
            expect(row).to_have_text(f"{n} ({round(100 * n / 3)} %)")
        numbers = page.locator("#poll-numbers tbody tr")
        expect(numbers).to_have_count(6)
        expect(numbers.first.locator("td").nth(3)).to_have_text("3")  # seeds behind each mean
    outcome = server.http.get(f"/api/polls/{poll_id}").json()["outcome"]
    decided = outcome["choice"] or " and ".join(outcome["tied"])
    expect(students["Ben"].locator("#poll-outcome h2")).to_contain_text(decided)
    shot(students["Ana"], "poll_after_outcome")

    teacher.set_viewport_size({"width": 1920, "height": 1080})
    teacher.click("#projector")
    expect(teacher.locator(".topbar nav")).to_be_hidden()
    expect(teacher.locator("#poll-outcome")).to_be_visible()  # the view is drawn again
    font = teacher.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#poll-mine')).fontSize)"
    )
    body = teacher.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 28 and font >= 28
    shot(teacher, "poll_projector")
    teacher.click("#projector")  # and back

    # Each student also runs a small comparison of their own, as a class does between polls.
    tiny = {"base": {"data": {"n_train": 40}, "model": {"hidden": [8]}, "train": {"epochs": 3}}}
    for created in [server.submit(tiny, user=name) for name in GUESSES]:
        server.wait_finished(created["id"])
    teacher.goto("/#/class")
    for name in GUESSES:
        row = teacher.locator(f'#students tr[data-student="{name}"]')
        expect(row.locator("td").nth(1)).to_have_text("1")  # one experiment, its runs done
    shot(teacher, "class_page")
    assert not errors, errors
