"""GET /api/class and its CSV: the teacher sees every student's work, the queue and what broke."""

from __future__ import annotations

import csv
import io
from typing import Any

from api.challenge_support import create, enter
from api.conftest import LiveServer
from tests.support import wait_for

ADMIN = {"X-Reglab-Admin": "sesame"}
SMALL: dict[str, Any] = {
    "base": {"data": {"n_train": 40}, "model": {"hidden": [8]}, "train": {"epochs": 3}}
}
# SGD at the largest step the form allows on a sine regression blows up within a few epochs.
WILD: dict[str, Any] = {
    "base": {
        "data": {"kind": "sine", "n_train": 60, "noise": 0.3},
        "model": {"hidden": [16, 12]},
        "optimizer": {"kind": "sgd", "lr": 10.0},
        "train": {"epochs": 6, "batch_size": 16},
    }
}
LONG: dict[str, Any] = {"base": {"train": {"epochs": 2000}, "data": {"n_train": 40}}}


def test_only_the_teacher_reads_the_class_or_its_csv(server: LiveServer) -> None:
    for path in ("/api/class", "/api/class/export.csv"):
        assert server.http.get(path).status_code == 403
        assert server.http.get(path, headers={"X-Reglab-Admin": "open sesame"}).status_code == 403
        student = server.http.get(path, headers=server.identity("Nosy"))
        assert student.status_code == 403 and "teacher" in student.json()["detail"]
        assert server.http.get(path, headers=ADMIN).status_code == 200


def test_the_class_shows_each_students_runs_what_trains_for_whom_and_what_failed(
    server: LiveServer,
) -> None:
    done = server.submit(SMALL, user="Class Ada")
    wild = server.submit(WILD, user="Class Ada")
    server.wait_finished(done["id"])
    server.wait_finished(wild["id"])
    busy = server.submit(LONG, user="Class Bea")

    def training() -> dict[str, Any] | None:
        seen = server.http.get("/api/class", headers=ADMIN).json()
        mine = [w for w in seen["workers"] if "Class Bea" in w["owners"]]
        return seen if mine and mine[0]["seconds"] is not None else None

    seen = wait_for(training, 60, "Bea's run to train")
    students = {s["name"]: s for s in seen["students"]}
    ada, bea = students["Class Ada"], students["Class Bea"]
    assert ada["experiments"] == 2 and ada["queued"] == ada["running"] == 0
    assert bea["experiments"] == 1 and bea["running"] + bea["queued"] == 1
    assert ada["last_seen"] is not None and bea["last_seen"] >= ada["last_seen"]
    assert seen["slots"] >= 1
    worker = next(w for w in seen["workers"] if "Class Bea" in w["owners"])
    assert worker["experiments"] == [busy["id"]]

    flagged = [f for f in seen["flagged"] if f["experiment_id"] == wild["id"]]
    assert [(f["status"], f["kind"]) for f in flagged] == [("diverged", "diverged")]
    assert flagged[0]["owner"] == "Class Ada" and "learning rate" in flagged[0]["reason"]

    # The teacher's action is the route that exists: cancel Bea's experiment with the token.
    cancel = server.http.post(f"/api/experiments/{busy['id']}/cancel", headers=ADMIN)
    assert cancel.status_code == 202
    server.wait_finished(busy["id"])

    exported = server.http.get("/api/class/export.csv", headers=ADMIN)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    ours = [r for r in rows if r["experiment_id"] in {str(done["id"]), str(wild["id"])}]
    assert {r["owner"] for r in ours} == {"Class Ada"}
    finished = next(r for r in ours if r["experiment_id"] == str(done["id"]))
    stored = server.experiment(done["id"])["runs"][0]["summary"]
    assert finished["status"] == "completed"
    assert float(finished["final_val_loss"]) == stored["final_val_loss"]


def test_the_class_counts_each_students_challenge_entries_and_lists_the_challenges(
    server: LiveServer,
) -> None:
    made = create(server, title="Class page challenge", repeats=1)
    entered = enter(server, made["id"], "Class Cy", "cy l2", {"regularization": {"l2": 0.01}})
    assert entered.status_code == 201, entered.text
    seen = server.http.get("/api/class", headers=ADMIN).json()
    cy = next(s for s in seen["students"] if s["name"] == "Class Cy")
    assert cy["experiments"] == 1 and cy["entries"] == 1
    listed = {c["id"]: c for c in seen["challenges"]}
    assert listed[made["id"]] == {
        "id": made["id"],
        "title": "Class page challenge",
        "status": "open",
    }
    # The class page's buttons are the challenge's own routes: close, then reveal.
    assert server.http.post(f"/api/challenges/{made['id']}/close", headers=ADMIN).status_code == 200
    seen = server.http.get("/api/class", headers=ADMIN).json()
    assert {c["id"]: c["status"] for c in seen["challenges"]}[made["id"]] == "closed"
