"""A small challenge as the API tests set it: the overfitting task cut to a few epochs."""

from __future__ import annotations

import sqlite3
from typing import Any

from api.conftest import LiveServer
from tests.support import wait_for

ADMIN = {"X-Reglab-Admin": "sesame"}
OPEN = ["regularization.l2", "regularization.dropout", "optimizer.lr", "train.epochs"]


def challenge_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Beat the overfitting net",
        "lesson": "overfitting",
        "base": {"train": {"epochs": 4, "snapshot_every": 2}, "data": {"n_train": 60}},
        "open": OPEN,
        "repeats": 2,
        "max_entries": 2,
        "metric": "accuracy",
        "public_test": 20,
        "private_test": 300,
    }
    body.update(changes)
    return body


def create(server: LiveServer, **changes: Any) -> dict[str, Any]:
    made = server.http.post("/api/challenges", json=challenge_body(**changes), headers=ADMIN)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def enter(server: LiveServer, challenge: int, student: str, name: str, override: Any) -> Any:
    return server.http.post(
        f"/api/challenges/{challenge}/entries",
        json={"name": name, "override": override},
        headers=server.identity(student),
    )


def board(server: LiveServer, challenge: int) -> dict[str, Any]:
    found: dict[str, Any] = server.http.get(f"/api/challenges/{challenge}/leaderboard").json()
    return found


def settled(server: LiveServer, challenge: int, entries: int, timeout: float = 120) -> Any:
    """The board once its baselines (simple, medium, strong) and `entries` entries are all
    finished and scored: bounded by the runs' training (a few seconds each on a loaded box)."""

    def done() -> dict[str, Any] | None:
        found = board(server, challenge)
        rows = found["rows"]
        kinds = [r["kind"] for r in rows]
        finished = all(r["status"] == "finished" and r["public"] is not None for r in rows)
        ready = kinds.count("baseline") == 3 and kinds.count("entry") == entries
        return found if ready and finished else None

    return wait_for(done, timeout, f"challenge {challenge}'s board to settle")


def stored_runs(server: LiveServer, challenge: int) -> list[dict[str, Any]]:
    """Every run of the challenge as its row is stored, read from the SQLite file itself
    (past the store and its sealing)."""
    path = server.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT r.id, r.experiment_id, r.variant, r.replicate, r.status, r.test_loss, "
            "r.test_acc, json_extract(r.summary_extra, '$.public_acc') AS public_acc, "
            "e.owner, e.name, e.challenge_role FROM run r JOIN experiment e "
            "ON e.id = r.experiment_id WHERE e.challenge_id = ? ORDER BY r.id",
            (challenge,),
        ).fetchall()
    return [dict(r) for r in rows]
