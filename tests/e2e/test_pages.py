"""The form, history, sharing, the name prompt and escaping, driven in a real Chromium."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from e2e.conftest import ADMIN_TOKEN, ARTIFACTS, PROBE, settle
from tests.support import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TINY = {"data": {"n_train": 60}, "model": {"hidden": [8]}, "train": {"epochs": 12}}


def test_invalid_learning_rate_shows_the_api_message_next_to_the_field(page: Page) -> None:
    page.goto("/#/new")
    page.fill("#f-optimizer-lr", "-1")
    page.click("#launch")
    error = page.locator('[data-field="base.optimizer.lr"] > .field-error')
    expect(error).to_contain_text("greater than 0")
    expect(page.locator("#f-optimizer-lr")).to_have_attribute("aria-invalid", "true")
    assert "#/new" in page.url  # nothing was launched


def test_bad_variant_override_is_marked_on_that_variant_row(page: Page) -> None:
    page.goto("/#/new")
    # The default form has a second variant overriding regularization.l2; 5 is above its limit of 1.
    page.fill('[data-path="variants.1.override.regularization.l2"]', "5")
    page.click("#launch")
    row = page.locator('[data-field="variants.1.override.regularization.l2"] > .field-error')
    expect(row).to_contain_text("less than or equal to 1")


def test_history_lists_the_comparison_and_exports_its_csv(page: Page, server: Api) -> None:
    variants = [
        {"name": "plain", "override": {}},
        {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
    ]
    created = server.submit(
        {"name": "history check", "base": TINY, "variants": variants}, user="Grace"
    )
    server.wait_finished(created["id"])
    page.goto("/#/history")
    page.fill("#filter-owner", "Grace")
    page.press("#filter-owner", "Enter")
    row = page.locator(f'tr[data-experiment="{created["id"]}"]')
    expect(row).to_contain_text("history check")
    expect(row).to_contain_text("Grace")
    expect(page.locator("tr[data-experiment]")).to_have_count(1)
    with page.expect_download() as info:
        row.locator('[data-export="csv"]').click()
    text = info.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 * 12, f"expected one row per run and epoch, got {len(rows)}"
    assert {"epoch", "train_loss", "val_loss"} <= set(rows[0])


def test_user_text_is_shown_as_text_never_as_markup(page: Page, server: Api) -> None:
    name = '<img src=x onerror="window.__pwned=1">'
    script = "<script>window.__pwned=2</script>"
    created = server.submit({"name": name, "description": script, "base": TINY}, user="Eve")
    server.wait_finished(created["id"])
    page.goto("/#/history")
    expect(page.locator(f'tr[data-experiment="{created["id"]}"] .exp-link')).to_have_text(name)
    page.goto(f"/#/experiments/{created['id']}")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".exp-description")).to_have_text(script)
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_share_link_opens_the_form_filled_in_with_locked_controls(page: Page) -> None:
    page.goto("/#/new")
    page.fill("#f-optimizer-lr", "0.05")
    page.select_option("#f-data-kind", "circles")
    shared = page.evaluate("location.hash")
    assert "setup=" in shared
    page.goto(f"/{shared}&lock=data.kind")
    page.reload()  # a fresh page load, as for a student who opens the link
    expect(page.locator("#f-optimizer-lr")).to_have_value("0.05")
    expect(page.locator("#f-data-kind")).to_have_value("circles")
    expect(page.locator("#f-data-kind")).to_be_disabled()
    expect(page.locator("#f-optimizer-lr")).to_be_enabled()
    expect(page.locator(".notice")).to_contain_text("locks 1 control")
    # A locked field cannot be picked as a variant's change either.
    options = page.locator('[data-variant="1"] select.field-select option').all_inner_texts()
    assert "data set" not in options


def test_first_visit_asks_for_a_name_and_sends_it_as_the_owner(
    browser: Browser, server: Api
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    context.add_init_script(PROBE)
    page = context.new_page()
    try:
        page.goto("/#/new")
        dialog = page.locator("#name-dialog")
        expect(dialog).to_be_visible()
        page.fill("#name-input", "Zoë")
        page.click("#name-form button[type=submit]")
        expect(page.locator("#user-name")).to_have_text("Zoë")
        page.fill("#f-train-epochs", "5")
        page.fill("#f-data-n_train", "60")
        page.fill("#f-model-hidden", "8")
        page.click("#launch")
        page.wait_for_url(re.compile(r"#/experiments/\d+"))
        experiment_id = int(page.url.rsplit("/", 1)[1])
        exp = wait_for(lambda: server.experiment(experiment_id), 10, "the experiment")
        assert exp["owner"] == "Zoë"
        assert page.evaluate("localStorage.getItem('reglab.user')") == "Zoë"
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "test_first_visit_name_prompt.png"), full_page=True)
        context.close()


def test_a_name_another_browser_holds_is_refused_in_the_prompt(
    browser: Browser, server: Api
) -> None:
    server.identity("Lin")  # another client chose "Lin" first
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    context.add_init_script("localStorage.setItem('reglab.user', 'Lin')")  # a stale claim
    context.add_init_script(PROBE)
    page = context.new_page()
    try:
        page.goto("/#/")
        expect(page.locator("#name-dialog")).to_be_visible()
        expect(page.locator("#name-error")).to_contain_text("The name Lin is taken")
        page.fill("#name-input", "Lin")
        page.click("#name-form button[type=submit]")
        expect(page.locator("#name-error")).to_contain_text("taken")
        page.fill("#name-input", "Lin Two")
        page.click("#name-form button[type=submit]")
        expect(page.locator("#user-name")).to_have_text("Lin Two")
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["reglab_token"]["httpOnly"]
        assert page.evaluate("document.cookie") == ""  # the page's scripts never see the secret
    finally:
        context.close()


def test_clone_from_history_opens_the_form_with_that_setup(page: Page, server: Api) -> None:
    body = {
        "name": "to clone",
        "base": {**TINY, "optimizer": {"kind": "sgd", "lr": 0.2}},
        "variants": [
            {"name": "plain", "override": {}},
            {"name": "drop", "override": {"regularization": {"dropout": 0.4}}},
        ],
    }
    created = server.submit(body, user="Ada")
    server.wait_finished(created["id"])
    page.goto("/#/history?owner=Ada")
    page.locator(f'tr[data-experiment="{created["id"]}"] button', has_text="Clone").click()
    page.wait_for_url(re.compile(r"#/new"))
    expect(page.locator("#exp-name")).to_have_value("to clone (copy)")
    expect(page.locator("#f-optimizer-kind")).to_have_value("sgd")
    expect(page.locator("#f-optimizer-lr")).to_have_value("0.2")
    expect(page.locator('[data-path="variants.1.name"]')).to_have_value("drop")
    override = '[data-path="variants.1.override.regularization.dropout"]'
    expect(page.locator(override)).to_have_value("0.4")


def test_delete_from_history_removes_the_comparison(page: Page, server: Api) -> None:
    created = server.submit({"name": "to delete", "base": TINY}, user="Ada")
    server.wait_finished(created["id"])
    page.goto("/#/history?owner=Ada")
    row = page.locator(f'tr[data-experiment="{created["id"]}"]')
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Delete").click()
    expect(row).to_have_count(0)
    assert server.http.get(f"/api/experiments/{created['id']}").status_code == 404


def test_teacher_signs_in_on_the_class_page_then_cancels_everything(
    page: Page, server: Api
) -> None:
    long = {**TINY, "train": {"epochs": 2000}}
    created = server.submit({"name": "a long one", "base": long}, user="Bob")
    page.goto("/#/history")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-everything")  # not signed in: the server says how to become the teacher
    expect(page.locator(".toast.error")).to_contain_text("sign in on the class page")

    page.goto("/#/class")
    page.fill("#admin-token", "wrong")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sign-in .form-error")).to_contain_text("not this server's admin token")
    page.fill("#admin-token", ADMIN_TOKEN)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#students")).to_be_visible()

    page.goto("/#/history")
    page.click("#cancel-everything")
    expect(page.locator(".toast").last).to_contain_text("Cancelled")
    assert server.wait_finished(created["id"])["runs"][0]["status"] == "cancelled"


CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_the_dashboard_draws_every_view_within_its_content_security_policy(
    page: Page, server: Api
) -> None:
    created = server.submit({"name": "under csp", "base": TINY}, user="Ada")
    server.wait_finished(created["id"])
    page.add_init_script(CSP_WATCH)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else 0)
    body = {"lesson": "overfitting", "question": "claim:1"}
    poll = server.http.post("/api/polls", json=body, headers={"X-Reglab-Admin": ADMIN_TOKEN})
    views = ("/#/", "/#/new", "/#/history", "/#/class", f"/#/polls/{poll.json()['id']}")
    for view in (*views, f"/#/experiments/{created['id']}"):
        page.goto(view)
        page.wait_for_load_state("networkidle")
        if "experiments" in view:
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
            settle(page)
        assert page.evaluate("window.__csp") == [], view
    policy = page.request.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert outside == []


# What a page opened without a probe leaves on `window` and on its chart elements named "reglab…":
# only the early loader's hand-over to the modules (frontend/early.js), none of the tests' hooks.
GLOBALS = """() => ({window: Object.keys(window).filter((k) => /reglab/i.test(k)).sort(),
    charts: [...document.querySelectorAll('[data-chart]')].flatMap((el) =>
        Object.keys(el).filter((k) => /reglab/i.test(k)))})"""


def test_a_students_page_exposes_no_test_hooks_without_an_injected_probe(
    browser: Browser, server: Api
) -> None:
    created = server.submit({"name": "no hooks", "base": TINY}, user="Ada")
    server.wait_finished(created["id"])
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    context.add_init_script("localStorage.setItem('reglab.user', 'Ada')")
    page = context.new_page()
    try:
        page.goto(f"/#/experiments/{created['id']}")
        expect(page.locator("[data-chart=loss] .main-svg").first).to_be_visible()
        expect(page.locator(".conn")).to_have_attribute("data-conn", "finished")
        exposed = page.evaluate(GLOBALS)
        assert exposed["window"] == ["reglabChooseLanguage", "reglabEarly", "reglabLanguage"]
        assert exposed["charts"] == []
    finally:
        context.close()


def test_a_view_left_while_it_loads_neither_draws_nor_rewrites_the_address(page: Page) -> None:
    # A slow laptop, held still: the form's schema answers only after the student has moved on.
    held: list[Route] = []
    page.route("**/api/schema/run-spec", lambda route: held.append(route))
    page.goto("/#/new")
    page.evaluate("location.hash = '#/history'")
    expect(page.locator("#filter-owner")).to_be_visible()
    assert len(held) == 1, "the form asked for its schema once and is waiting for it"
    with page.expect_response("**/api/schema/run-spec"):
        held[0].continue_()
    # The schema is cached by the left form's render, which then goes on in the same task; once
    # the page has stored it, whatever that render would draw or write has happened.
    page.wait_for_function("() => window.reglabProbe.state.schema !== null")
    assert page.url.endswith("#/history"), f"the left form rewrote the address: {page.url}"
    assert page.locator("#launch").count() == 0, "the left form drew on the history page"
    expect(page.locator("#filter-owner")).to_be_visible()


def test_api_docs_render_offline_within_the_policy(browser: Browser, server: Api) -> None:
    context = browser.new_context(base_url=server.url)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else 0)
    try:
        page.goto("/docs")
        expect(page.locator(".opblock").first).to_be_visible()
        assert page.locator(".opblock").count() > 10
        assert page.evaluate("window.__csp") == []
        assert outside == []
    finally:
        context.close()
