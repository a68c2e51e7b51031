"""Challenges through a real server: created by the teacher only, entries refused with the right
4xx and nothing stored, and a board recomputed here from the stored runs, independently."""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.challenge_support import (
    ADMIN,
    board,
    challenge_body,
    create,
    enter,
    settled,
    stored_runs,
)
from api.conftest import LiveServer

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}


def experiments_total(server: LiveServer) -> int:
    total: int = server.http.get("/api/experiments?limit=1").json()["total"]
    return total


def test_only_the_admin_token_creates_closes_and_reveals_a_challenge(server: LiveServer) -> None:
    body = challenge_body()
    assert server.http.post("/api/challenges", json=body).status_code == 403
    wrong = server.http.post("/api/challenges", json=body, headers={"X-Reglab-Admin": "guess"})
    assert wrong.status_code == 403 and "admin token" in wrong.json()["detail"]
    made = create(server, repeats=1)  # its baselines are not looked at: 5 runs, not 10
    assert made["status"] == "open" and made["public_test"] == 20
    assert made["private_test"] == 300 and made["max_epochs"] == 4
    for action in ("close", "reveal"):
        refused = server.http.post(f"/api/challenges/{made['id']}/{action}")
        assert refused.status_code == 403, action
    listed = server.http.get("/api/challenges").json()
    assert made["id"] in [c["id"] for c in listed]
    assert server.http.get("/api/challenges/999999").status_code == 404


def test_a_challenge_is_refused_with_the_field_to_change(server: LiveServer) -> None:
    cases = [
        (challenge_body(open=["data.noise"]), "open.0", "data set is the task"),
        (challenge_body(open=["regularization.l3"]), "open.0", "not a field"),
        (challenge_body(lesson="nosuch"), "lesson", "no lesson"),
        (challenge_body(base={"train": {"epochs": 0}}), "base.train.epochs", "greater"),
        (challenge_body(max_epochs=2), "max_epochs", "over max_epochs"),
        (challenge_body(lesson=None, base={"data": {"kind": "sine"}}), "metric", "accuracy"),
    ]
    before = len(server.http.get("/api/challenges").json())
    for body, field, words in cases:
        refused = server.http.post("/api/challenges", json=body, headers=ADMIN)
        assert refused.status_code == 422, body
        error = refused.json()["detail"][0]
        assert error["field"] == field and words in error["msg"], error
    assert len(server.http.get("/api/challenges").json()) == before


def test_a_private_test_split_outside_a_challenge_is_refused(server: LiveServer) -> None:
    body = {"base": {"train": {"epochs": 1}, "data": {"n_train": 40, "private_test": 500}}}
    refused = server.http.post("/api/experiments", json=body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "base.data.private_test"


def test_bad_entries_get_their_4xx_and_nothing_is_stored(server: LiveServer) -> None:
    made = create(server, max_entries=1, repeats=1)
    path = f"/api/challenges/{made['id']}/entries"
    before = experiments_total(server)

    locked = enter(server, made["id"], "kim", "bigger", {"train": {"batch_size": 5}})
    assert locked.status_code == 422
    error = locked.json()["detail"][0]
    assert error["field"] == "override.train.batch_size" and "locked" in error["msg"]
    over = enter(server, made["id"], "kim", "longer", {"train": {"epochs": 9}})
    assert over.status_code == 422
    assert over.json()["detail"][0]["field"] == "override.train.epochs"
    assert "budget of 4" in over.json()["detail"][0]["msg"]
    bad = enter(server, made["id"], "kim", "neg", {"regularization": {"l2": -1}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "override.regularization.l2"

    anonymous = httpx.post(f"{server.url}{path}", json={"name": "x", "override": {}})
    assert anonymous.status_code == 401 and "choose a name" in anonymous.json()["detail"]
    server.identity("lee")  # bound: its name alone proves nothing
    unproven = server.http.post(
        path, json={"name": "x", "override": {}}, headers={"X-Reglab-User": "lee"}
    )
    assert unproven.status_code == 403
    assert experiments_total(server) == before

    first = enter(server, made["id"], "kim", "l2", {"regularization": {"l2": 0.01}})
    assert first.status_code == 201, first.text
    assert (
        server.http.get(f"/api/challenges/{made['id']}", headers=server.identity("kim")).json()[
            "entries_left"
        ]
        == 0
    )
    again = enter(server, made["id"], "kim", "l2 again", {"regularization": {"l2": 0.02}})
    assert again.status_code == 429 and "0 entries left" in again.json()["detail"]
    # Deleting an entry would give it back: only the teacher may.
    mine = f"/api/experiments/{first.json()['id']}"
    kept = server.http.delete(mine, headers=server.identity("kim"))
    assert kept.status_code == 409 and "only the teacher" in kept.json()["detail"]

    closed = server.http.post(f"/api/challenges/{made['id']}/close", headers=ADMIN)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    late = enter(server, made["id"], "ann", "late", {})
    assert late.status_code == 409 and "closed" in late.json()["detail"]
    assert experiments_total(server) == before + 1
    assert (
        server.http.post(
            "/api/challenges/999999/entries", json={"name": "x"}, headers=server.identity("kim")
        ).status_code
        == 404
    )


def _interval(values: list[float]) -> tuple[float, float, float]:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    half = T975[len(values) - 1] * sd / math.sqrt(len(values))
    return mean, sd, half


def _expected_board(stored: list[dict[str, Any]], column: str) -> dict[str, Any]:
    """Each entry's mean, sd and interval of `column` over its seeds, and the ranking by mean."""
    by_entry: dict[int, list[float]] = {}
    for run in stored:
        if run["challenge_role"] == "entry":
            by_entry.setdefault(run["experiment_id"], []).append(run[column])
    stats = {e: _interval(v) for e, v in by_entry.items()}
    order = sorted(stats, key=lambda e: (-stats[e][0], e))
    return {"stats": stats, "rank": {e: i + 1 for i, e in enumerate(order)}}


def test_the_board_equals_what_the_stored_runs_add_up_to(server: LiveServer) -> None:
    made = create(server)
    entries = {
        ("ann", "l2"): {"regularization": {"l2": 0.01}},
        ("bob", "dropout"): {"regularization": {"dropout": 0.5}},
        ("cy", "as is"): {},
    }
    for (student, name), override in entries.items():
        assert enter(server, made["id"], student, name, override).status_code == 201
    found = settled(server, made["id"], len(entries))
    assert found["revealed"] is False
    stored = stored_runs(server, made["id"])
    expected = _expected_board(stored, "public_acc")
    rows = {r["experiment_id"]: r for r in found["rows"] if r["kind"] == "entry"}
    assert set(rows) == set(expected["stats"])
    for experiment, (mean, sd, half) in expected["stats"].items():
        row = rows[experiment]
        assert math.isclose(row["public"]["mean"], mean, rel_tol=1e-9)
        assert math.isclose(row["public"]["sd"], sd, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(row["public"]["high"] - row["public"]["low"], 2 * half, abs_tol=1e-9)
        assert row["public"]["n"] == 2 and row["private"] is None
        assert row["rank"] == expected["rank"][experiment]
        assert row["entries_left"] == 1
    assert rows[min(rows, key=lambda e: expected["rank"][e])]["rank"] == 1
    changed = {r["name"]: r["changed"] for r in rows.values()}
    assert changed == {
        "l2": {"regularization.l2": 0.01},
        "dropout": {"regularization.dropout": 0.5},
        "as is": {},
    }
    names = [r["name"] for r in found["rows"] if r["kind"] == "baseline"]
    assert names == ["simple", "medium", "strong"]

    assert (
        server.http.post(f"/api/challenges/{made['id']}/reveal", headers=ADMIN).json()["status"]
        == "revealed"
    )
    after = board(server, made["id"])
    private = _expected_board(stored, "test_acc")
    for row in after["rows"]:
        if row["kind"] != "entry":
            continue
        mean, _, _ = private["stats"][row["experiment_id"]]
        assert math.isclose(row["private"]["mean"], mean, rel_tol=1e-9)
        assert row["private_rank"] == private["rank"][row["experiment_id"]]
        assert row["rank_change"] == row["rank"] - row["private_rank"]


def test_the_board_stream_resumes_where_its_client_left_and_sends_each_change(
    server: LiveServer,
) -> None:
    made = create(server, repeats=1)
    path = f"{server.ws_url}/ws/challenges/{made['id']}"
    with connect(path) as ws:
        first = json.loads(ws.recv(timeout=30))
    assert first["type"] == "board" and first["status"] == "open"
    assert first["board"]["challenge_id"] == made["id"]
    # Resuming with what it had, the client gets nothing until the board moves: the close.
    with connect(f"{path}?since={first['cursor']}&status=open") as ws:
        closed = server.http.post(f"/api/challenges/{made['id']}/close", headers=ADMIN)
        assert closed.status_code == 200
        # The first message after the close (a baseline's status could come first: skip it).
        while (message := json.loads(ws.recv(timeout=30)))["status"] == "open":
            assert message["cursor"] > first["cursor"]
    assert message["board"]["status"] == "closed"
    with connect(f"{server.ws_url}/ws/challenges/999999") as ws, pytest.raises(ConnectionClosed):
        ws.recv(timeout=30)
    assert ws.close_code == 4404
