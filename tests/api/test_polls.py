"""Predict, then watch: a poll's routes, its secret answers, and the outcome its runs decide."""

from __future__ import annotations

import sqlite3
import statistics
from typing import Any

import httpx

from api.conftest import LiveServer
from tests.support import wait_for

ADMIN = {"X-Reglab-Admin": "sesame"}
# Few epochs: the poll's outcome is whatever its runs decide, and this test recomputes it.
CHEAP = {"lesson": "overfitting", "question": "lowest-final-val-loss", "epochs": 12, "repeats": 3}
GUESSES = {"Poll Ann": "l2", "Poll Bob": "none", "Poll Cy": "l2"}


def strings(value: Any) -> list[str]:
    """Every string inside a JSON value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_opening_a_poll_is_the_teachers_with_a_known_lesson_and_question(
    server: LiveServer,
) -> None:
    assert server.http.post("/api/polls", json=CHEAP).status_code == 403
    student = server.http.post("/api/polls", json=CHEAP, headers=server.identity("Poll Eve"))
    assert student.status_code == 403
    for change, field in (
        ({"lesson": "nope"}, "lesson"),
        ({"question": "prettiest-curve"}, "question"),
        ({"repeats": 2}, "repeats"),
        ({"epochs": 0}, "epochs"),
        ({"question": "claim:0"}, "question"),
        ({"question": "claim:4"}, "question"),  # overfitting states three claims
    ):
        refused = server.http.post("/api/polls", json={**CHEAP, **change}, headers=ADMIN)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["field"] == field
    assert server.http.get("/api/polls/999999").status_code == 404
    assert server.http.post("/api/polls/999999/start", headers=ADMIN).status_code == 404


def test_a_poll_hides_every_answer_until_its_runs_decide_then_shows_guess_outcome_and_spread(
    server: LiveServer,
) -> None:
    seen: list[tuple[str | None, httpx.Response]] = []  # (whose request, its answer)

    def as_(who: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = ADMIN if who == "teacher" else server.identity(who) if who else {}
        answer = server.http.request(method, path, headers=headers, **kw)
        seen.append((who, answer))
        return answer

    created = as_("teacher", "POST", "/api/polls", json=CHEAP)
    assert created.status_code == 201
    poll = created.json()
    assert poll["state"] == "open" and poll["answers"] == 0
    assert poll["choices"] == ["none", "l2", "l1", "dropout", "early-stopping", "all"]
    path = f"/api/polls/{poll['id']}"

    anonymous = httpx.post(f"{server.url}{path}/answers", json={"choice": "l2"}, timeout=30)
    assert anonymous.status_code == 403  # an unproven name may not answer
    for name, choice in GUESSES.items():
        mine = as_(name, "POST", f"{path}/answers", json={"choice": choice})
        assert mine.status_code == 201 and mine.json()["mine"] == choice
    assert as_("Poll Ann", "POST", f"{path}/answers", json={"choice": "l1"}).status_code == 409
    unknown = as_("Poll Dee", "POST", f"{path}/answers", json={"choice": "l3"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "choice"
    counted = as_("teacher", "GET", path).json()
    assert counted["answers"] == 3 and counted["mine"] is None and counted["spread"] is None

    assert as_("Poll Ann", "POST", f"{path}/start").status_code == 403
    started = as_("teacher", "POST", f"{path}/start")
    assert started.status_code == 200
    experiment = started.json()["experiment"]
    assert as_("teacher", "POST", f"{path}/start").status_code == 409
    late = as_("Poll Dee", "POST", f"{path}/answers", json={"choice": "l1"})
    assert late.status_code == 409

    def done() -> dict[str, Any] | None:
        for who in (*GUESSES, "Poll Dee", "teacher", None):
            as_(who, "GET", path)
        as_("teacher", "GET", "/api/polls")
        last = seen[-2][1].json()  # the teacher's read of this poll
        return last if last["state"] == "done" else None

    decided = wait_for(done, 120, "the poll's runs to finish")

    # Before the outcome no answer anyone received holds another student's choice.
    before = [(who, a) for who, a in seen if "outcome" not in a.text or '"outcome":null' in a.text]
    assert len(before) > 10
    for who, answer in before:
        body = answer.json()
        polls = body if isinstance(body, list) else [body] if "choices" in body else []
        for shown in polls:
            assert shown["spread"] is None
            assert shown["mine"] in (None, GUESSES.get(who or ""))
            rest = {k: v for k, v in shown.items() if k not in ("choices", "mine")}
            leaked = set(strings(rest)) & (set(shown["choices"]) | set(GUESSES))
            assert not leaked, f"{who} was shown {leaked}"
        if not polls:  # an error: a sentence naming no student's choice
            assert not set(strings(body)) & set(GUESSES.values()), body

    # Once done: each student's own guess, the outcome the runs decided and the spread.
    assert decided["experiment"] == experiment
    assert decided["spread"] == {
        "none": 1,
        "l2": 2,
        "l1": 0,
        "dropout": 0,
        "early-stopping": 0,
        "all": 0,
    }
    for name, choice in GUESSES.items():
        assert as_(name, "GET", path).json()["mine"] == choice

    # The outcome, worked out again from the SQLite file itself, not through the API.
    db = server.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT variant, replicate, status, final_val_loss FROM run WHERE experiment_id = ?",
            (experiment,),
        ).fetchall()
    assert len(rows) == 6 * 3 and {r[2] for r in rows} <= {"completed", "stopped_early"}
    means = {
        v: statistics.fmean(loss for variant, _, _, loss in rows if variant == v)
        for v in poll["choices"]
    }
    outcome = decided["outcome"]
    for variant, mean in means.items():
        assert abs(outcome["numbers"][variant]["mean"] - mean) < 1e-12
        assert outcome["numbers"][variant]["n"] == 3
    # In 12 epochs early stopping (patience 20) never stops: it trains as `none` does, to the
    # same numbers, so a tie is what these runs may well decide.
    lowest = min(means.values())
    tied = [v for v, mean in means.items() if mean == lowest]
    if len(tied) > 1:
        assert outcome["choice"] is None and outcome["tied"] == tied
    else:
        assert outcome["choice"] == tied[0]
        assert outcome["seeds"] == 3 and f"in {outcome['won']} of 3 seeds" in outcome["sureness"]


def test_a_poll_on_a_claim_is_decided_by_the_lessons_check_on_the_stored_epochs(
    server: LiveServer,
) -> None:
    # l1-vs-l2's first claim: l1's share of exact zeros ends above 0.3 (at its last epoch).
    body = {"lesson": "l1-vs-l2", "question": "claim:1", "epochs": 5, "repeats": 3}
    created = server.http.post("/api/polls", json=body, headers=ADMIN)
    assert created.status_code == 201
    poll = created.json()
    assert poll["choices"] == ["holds", "fails"]
    assert poll["text"].startswith("Will this claim hold?") and "exact" in poll["text"]
    path = f"/api/polls/{poll['id']}"
    answered = server.http.post(
        f"{path}/answers", json={"choice": "fails"}, headers=server.identity("Poll Ann")
    )
    assert answered.status_code == 201
    experiment = server.http.post(f"{path}/start", headers=ADMIN).json()["experiment"]
    decided = wait_for(
        lambda: (p := server.http.get(path).json())["state"] == "done" and p, 120, "the claim"
    )

    db = server.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as connection:
        last = connection.execute(
            "SELECT m.sparsity FROM run r JOIN epoch_metric m ON m.run_id = r.id "
            "WHERE r.experiment_id = ? AND r.variant = 'l1' AND m.epoch = 5",
            (experiment,),
        ).fetchall()
    assert len(last) == 3
    zeros = statistics.fmean(row[0] for row in last)
    assert decided["outcome"]["choice"] == ("holds" if zeros > 0.3 else "fails")
    assert decided["outcome"]["seeds"] == 3 and f"{zeros:.3f}" in decided["outcome"]["sureness"]
    assert decided["spread"] == {"holds": 0, "fails": 1}
