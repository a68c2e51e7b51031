"""The page in 繁體中文 and 简体中文 in real Chromium: no English sentence, each its own script."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from e2e.conftest import ADMIN_TOKEN, ARTIFACTS, PROBE, settle
from tests.support import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Characters only one script writes (tests/unit/test_i18n_catalogs.py checks the catalogs alike).
SIMPLIFIED_ONLY = "这们数据网络验证练过损设选择单为时变权习级组类将从关应离线图"
TRADITIONAL_ONLY = "這們數據網絡驗證練過損設選擇單為時變權習級組類將從關應離線圖"
FOREIGN = {"zh-TW": SIMPLIFIED_ONLY, "zh-CN": TRADITIONAL_ONLY}
# Words an English sentence cannot do without; identifiers, variant names, the lecture's English
# terms (Dropout, Early Stopping, Adam…) and numbers need none of them.
FUNCTION_WORDS = """the a an of to and is in with on for at by each every no not from than as its
    your this what all had has have was were are be it after since below above"""
# The page's English words that stand alone (a heading, a button, a status): none may be left.
UI_WORDS = """Lessons History Loss Accuracy Status Variant Seeds Verdict Cancel Clone Report Launch
    Notes Sweep Variants Weight Gradient Inside Decision Training Data Model Optimizer
    Regularization Loading Large finished completed queued validation reference train loss weights
    layer seeds gap lock Zoom Pan"""
PLOTLY_TEXT = """() => [...document.querySelectorAll('.js-plotly-plot .main-svg text')]
    .map((t) => t.textContent).join('\\n')"""
MODEBAR_TITLES = (
    """() => [...document.querySelectorAll('.modebar-btn')].map((b) => b.dataset.title)"""
)

# A small lesson-tagged comparison with two seeds: the table of variants, verdicts and claims, and
# every chart of the live view, in a few seconds of training.
TINY_LESSON = {
    "data": {"kind": "moons", "n_train": 60, "noise": 0.3},
    "model": {"hidden": [16]},
    "optimizer": {"kind": "adam", "lr": 0.01},
    "train": {"epochs": 20, "batch_size": 20, "snapshot_every": 10},
}


def english_left(text: str) -> list[str]:
    """English sentences and stray English UI words in `text`, line by line."""
    found = []
    for line in text.splitlines():
        # A stretch of one line with no Chinese in it (numbers, symbols and spaces included).
        for run in re.findall(r"[ -~]+", line):
            words = re.findall(r"[A-Za-z]+", run)
            if len(words) >= 3 and set(FUNCTION_WORDS.split()) & {w.lower() for w in words}:
                found.append(run.strip())
        found += sorted(set(UI_WORDS.split()) & set(re.findall(r"[A-Za-z]+", line)))
    return found


def check_language(page: Page, lang: str, where: str) -> None:
    """The page's visible text and its charts' text: no English, no letter of the other script."""
    settle(page)
    text = "\n".join(
        [
            page.evaluate("() => document.body.innerText"),
            page.evaluate(PLOTLY_TEXT),
            # The name dialog is closed for a named student: its words are read all the same.
            page.evaluate("() => document.getElementById('name-dialog').innerText"),
            page.evaluate("() => document.title"),
        ]
    )
    assert page.evaluate("() => document.documentElement.lang") == lang
    assert not english_left(text), f"{where} in {lang} shows English: {english_left(text)}"
    slips = sorted({ch for ch in text if ch in FOREIGN[lang]})
    assert not slips, f"{where} in {lang} shows characters of the other script: {slips}"


@contextlib.contextmanager
def localized(
    browser: Browser, server: Api, locale: str, shot: str, *, teacher: bool = False
) -> Iterator[Page]:
    """A tab of a browser in `locale`, named Ada (signed in as the teacher when `teacher`);
    fails on a script error or a missing key."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=server.url, locale=locale
    )
    context.add_init_script("localStorage.setItem('reglab.user', 'Ada')")
    context.add_init_script(PROBE)
    context.add_cookies(
        [
            {
                "name": "reglab_token",
                "value": server.identity("Ada")["X-Reglab-Token"],
                "url": server.url,
            }
        ]
    )
    if teacher:
        signed = context.request.post("/api/admin/session", data={"token": ADMIN_TOKEN})
        assert signed.status == 204, signed.text()
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def console(msg: ConsoleMessage) -> None:
        # As conftest's page: a resource load failing is Chromium's log line, not the page's error.
        if "Failed to load resource" in msg.text:
            return
        if msg.type == "error" or "reglab: no" in msg.text:
            errors.append(f"console: {msg.text}")

    page.on("console", console)
    try:
        yield page
        ARTIFACTS.mkdir(exist_ok=True)
        settle(page)
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"the page reported errors: {errors}"


# A regression sweep: the response curve, the fitted curve and the test-loss column.
TINY_SWEEP = {
    "name": "sine l2",
    "base": {
        "data": {"kind": "sine", "n_train": 40},
        "model": {"hidden": [8]},
        "train": {"epochs": 10, "batch_size": 20, "snapshot_every": 5},
    },
    "grid": [{"field": "regularization.l2", "values": [0.0, 0.01, 0.1]}],  # a sweep: 3 or more
}


@pytest.fixture(scope="module")
def finished(server: Api) -> dict[str, Any]:
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    shipped = lessons["overfitting"]["spec"]
    body = {
        "name": "overfitting",
        "lesson": "overfitting",
        "claims": shipped["claims"],
        "base": TINY_LESSON,
        "variants": [v for v in shipped["variants"] if v["name"] in ("none", "l2", "dropout")],
        "repeats": 2,
    }
    created = server.submit(body, user="Ada")
    return server.wait_finished(created["id"])


@pytest.fixture(scope="module")
def sweep(server: Api) -> dict[str, Any]:
    return server.wait_finished(server.submit(TINY_SWEEP, user="Ada")["id"])


# zh-HK → 繁體 and the rest of the mapping: tests/js/i18n.test.mjs.
@pytest.mark.parametrize(("locale", "lang"), [("zh-TW", "zh-TW"), ("zh-CN", "zh-CN")])
def test_lessons_form_history_and_live_view_speak_the_browsers_chinese_in_its_own_script(
    browser: Browser,
    server: Api,
    finished: dict[str, Any],
    sweep: dict[str, Any],
    locale: str,
    lang: str,
) -> None:
    with localized(browser, server, locale, f"i18n_lessons_{locale}") as page:
        page.goto("/#/lessons")
        expect(page.locator('[data-lesson="overfitting"] h2')).not_to_have_text(
            "Overfitting remedies"
        )
        check_language(page, lang, "the lessons page")
    with localized(browser, server, locale, f"i18n_form_{locale}") as page:
        page.goto("/#/new")
        expect(page.locator("#launch")).to_be_visible()
        check_language(page, lang, "the form")
    with localized(browser, server, locale, f"i18n_history_{locale}") as page:
        page.goto("/#/history")
        expect(page.locator(f'tr[data-experiment="{finished["id"]}"]')).to_be_visible()
        check_language(page, lang, "the history")
    with localized(browser, server, locale, f"i18n_experiment_{locale}") as page:
        page.goto(f"/#/experiments/{finished['id']}")
        expect(page.locator(".conn")).to_have_attribute("data-conn", "finished", timeout=60_000)
        verdict = page.locator('tr[data-variant="l2"] td[data-col="verdict"]')
        expect(verdict).not_to_have_text(re.compile(r"^(—|)$"))
        page.locator('[data-chart="grads"]').scroll_into_view_if_needed()
        page.locator(".snapshots .multiple-plot").first.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => document.querySelectorAll('.multiple-plot .main-svg').length >= 3"
        )
        page.locator("body").scroll_into_view_if_needed()
        check_language(page, lang, "the live view")
        expect(page.locator(".diagnosis-panel .diagnosis").first).to_be_visible()
        page.locator(".diagnosis-panel").screenshot(
            path=str(ARTIFACTS / f"i18n_diagnosis_{locale}.png")
        )
        page.locator('[data-chart="loss"]').hover()
        titles = page.evaluate(MODEBAR_TITLES)
        assert titles and not english_left("\n".join(titles)) and "Zoom" not in titles, titles
    with localized(browser, server, locale, f"i18n_sweep_{locale}") as page:
        page.goto(f"/#/experiments/{sweep['id']}")
        expect(page.locator(".conn")).to_have_attribute("data-conn", "finished", timeout=60_000)
        page.locator('[data-chart="curve"]').scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('[data-chart=curve] .main-svg')")
        page.locator("body").scroll_into_view_if_needed()
        expect(page.locator('[data-chart="sweep"] .legendtext').first).to_be_visible()
        check_language(page, lang, "a regression sweep's live view")


def test_switching_language_keeps_the_forms_setup_without_a_reload(
    browser: Browser, server: Api
) -> None:
    with localized(browser, server, "en-US", "i18n_switch_form") as page:
        page.goto("/#/new")
        expect(page.locator("h1")).to_have_text("New comparison")
        page.fill("#exp-name", "noisy moons, mine")
        page.fill("#f-optimizer-lr", "0.05")
        page.evaluate("() => (window.notReloaded = true)")
        page.select_option("#language", "zh-TW")
        expect(page.locator("h1")).to_have_text("新的比較")
        assert page.evaluate("() => window.notReloaded") is True
        expect(page.locator("#exp-name")).to_have_value("noisy moons, mine")
        expect(page.locator("#f-optimizer-lr")).to_have_value("0.05")
        page.select_option("#language", "zh-CN")
        expect(page.locator("h1")).to_have_text("新建对比")
        expect(page.locator("#f-optimizer-lr")).to_have_value("0.05")
        check_language(page, "zh-CN", "the form after switching")
        page.reload()  # the choice is remembered by this browser, over its English locale
        expect(page.locator("h1")).to_have_text("新建对比")
        expect(page.locator("#language")).to_have_value("zh-CN")


def test_switching_to_english_on_the_live_view_says_the_apis_verdicts_and_keeps_the_page(
    browser: Browser, server: Api, finished: dict[str, Any]
) -> None:
    verdicts = {
        c["variant"]: c["verdict"]
        for c in finished["comparisons"]
        if c["metric"] == "final_val_loss"
    }
    with localized(browser, server, "zh-TW", "i18n_switch_experiment") as page:
        page.goto(f"/#/experiments/{finished['id']}")
        expect(page.locator(".conn")).to_have_attribute("data-conn", "finished", timeout=60_000)
        expect(page.locator('[data-chart="loss"] .gtitle')).to_have_text("損失")
        page.evaluate("() => (window.notReloaded = true)")
        page.select_option("#language", "en")
        expect(page.locator('[data-chart="loss"] .gtitle')).to_have_text("Loss")
        assert page.evaluate("() => window.notReloaded") is True
        # The page says the API's verdict from its numbers: in English, word for word the API's.
        for variant, sentence in verdicts.items():
            expect(
                page.locator(f'tr[data-variant="{variant}"] td[data-col="verdict"]')
            ).to_have_text(sentence)
        expect(page.locator(".claims li").first).to_have_text(finished["claims"][0])


ADMIN = {"X-Reglab-Admin": ADMIN_TOKEN}
MINE_MARKER = """() => getComputedStyle(
    document.querySelector('#poll-numbers tr.mine td[data-col=name]'), '::after').content"""
# The overfitting task cut to a few epochs and one seed: the board, its figures and the shake-up.
TINY_CHALLENGE = {
    "title": "moons L2 / Dropout",  # the teacher's own words: none an English sentence
    "lesson": "overfitting",
    "base": {"train": {"epochs": 3, "snapshot_every": 3}, "data": {"n_train": 60}},
    "open": ["regularization.l2", "regularization.dropout"],
    "repeats": 1,
    "max_entries": 2,
    "metric": "accuracy",
}


@pytest.fixture(scope="module")
def challenge(server: Api) -> dict[str, Any]:
    """A revealed challenge with Ada's one entry, every row scored (public and private)."""
    made = server.http.post("/api/challenges", json=TINY_CHALLENGE, headers=ADMIN)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    entered = server.http.post(
        f"/api/challenges/{found['id']}/entries",
        json={"name": "l2=0.01", "override": {"regularization": {"l2": 0.01}}},
        headers=server.identity("Ada"),
    )
    assert entered.status_code == 201, entered.text

    def scored() -> bool:
        rows = server.http.get(f"/api/challenges/{found['id']}/leaderboard").json()["rows"]
        return len(rows) == 4 and all(r["status"] == "finished" and r["public"] for r in rows)

    # Bounded by 3 baselines and one entry of 3 epochs on one seed: seconds on two loaded cores.
    wait_for(scored, timeout=120, what="the challenge's board scored")
    revealed = server.http.post(f"/api/challenges/{found['id']}/reveal", headers=ADMIN)
    assert revealed.status_code < 300, revealed.text
    return found


@pytest.fixture(scope="module")
def poll(server: Api) -> dict[str, Any]:
    """A poll Ada answered and the class's runs decided (3 variants × 3 seeds × 3 epochs)."""
    body = {"lesson": "overfitting", "question": "lowest-final-val-loss", "epochs": 3}
    made = server.http.post("/api/polls", json=body, headers=ADMIN)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    answer = {"choice": found["choices"][0]}
    answered = server.http.post(
        f"/api/polls/{found['id']}/answers", json=answer, headers=server.identity("Ada")
    )
    assert answered.status_code == 201, answered.text
    started = server.http.post(f"/api/polls/{found['id']}/start", headers=ADMIN)
    assert started.status_code < 300, started.text

    def done() -> bool:
        return bool(server.http.get(f"/api/polls/{found['id']}").json()["state"] == "done")

    wait_for(done, timeout=120, what="the poll's runs decided")
    return found


@pytest.mark.parametrize(("locale", "lang"), [("zh-TW", "zh-TW"), ("zh-CN", "zh-CN")])
def test_a_challenge_the_class_page_and_a_poll_speak_the_browsers_chinese(
    browser: Browser,
    server: Api,
    challenge: dict[str, Any],
    poll: dict[str, Any],
    locale: str,
    lang: str,
) -> None:
    with localized(browser, server, locale, f"i18n_challenges_{locale}") as page:
        page.goto("/#/challenges")
        expect(page.locator("#challenge-list")).to_be_visible()
        check_language(page, lang, "the challenges")
    with localized(browser, server, locale, f"i18n_challenge_{locale}", teacher=True) as page:
        page.goto(f"/#/challenges/{challenge['id']}")
        # Revealed: the private columns, and the shake-up drawn.
        expect(page.locator("#board-table .entry-row")).to_have_count(1)
        expect(page.locator("#shake-up .main-svg").first).to_be_attached()
        page.wait_for_function("() => document.querySelector('#class-plot .main-svg')")
        check_language(page, lang, "a challenge's board")
    with localized(browser, server, locale, f"i18n_class_{locale}", teacher=True) as page:
        page.goto("/#/class")
        expect(page.locator("#students")).to_be_visible()
        expect(page.locator(f'#challenges tr[data-challenge="{challenge["id"]}"]')).to_be_visible()
        expect(page.locator("#polls tbody tr")).to_have_count(1)
        check_language(page, lang, "the class page")
    with localized(browser, server, locale, f"i18n_poll_{locale}") as page:
        page.goto(f"/#/polls/{poll['id']}")
        expect(page.locator("#poll-outcome")).to_be_visible()
        expect(page.locator("#poll-verdict")).to_be_visible()
        expect(page.locator(".conn")).to_have_attribute("data-conn", "finished", timeout=60_000)
        # Two-word English the sentence check lets pass: the lesson's title, the guess's marker.
        expect(page.locator("#poll-live h1")).not_to_have_text("Overfitting remedies")
        marker = page.evaluate(MINE_MARKER)
        assert marker and "your" not in marker, marker
        check_language(page, lang, "a poll")
