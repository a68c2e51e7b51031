"""The whole service on real workers: stream every epoch, resume exactly once, cancel, crash."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections import Counter
from typing import Any

import pytest
from reglab.live import RESUME_CLOSE_CODE, Frame
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.conftest import LiveServer, collect, tiny
from tests.support import wait_for

pytestmark = pytest.mark.slow


def body(epochs: int, n_train: int = 60, variants: int = 2, **base: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "service test",
        "base": {
            "train": {"epochs": epochs, "snapshot_every": 5},
            "data": {"n_train": n_train},
            "model": {"hidden": [16]},
            **base,
        },
        "variants": [
            {"name": f"l2={i / 100}", "override": {"regularization": {"l2": i / 100}}}
            for i in range(variants)
        ],
    }
    return spec


def epochs_by_run(messages: list[dict[str, Any]]) -> Counter[tuple[int, int]]:
    return Counter((m["run_id"], m["epoch"]) for m in messages if m["type"] == "epoch")


def test_lesson_streams_every_epoch_of_every_run_and_the_db_has_them(server: LiveServer) -> None:
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    spec = tiny(lessons["overfitting"], epochs=4)
    spec["lesson"] = "overfitting"
    created = server.submit(spec)
    run_ids = {r["id"] for r in created["runs"]}
    variants = {r["variant"] for r in created["runs"]}
    assert "none" in variants and len(run_ids) >= 4

    messages = collect(server, created["id"], run_ids)

    cursors = [m["cursor"] for m in messages]
    assert cursors == sorted(set(cursors))  # in order, no duplicate
    finished = server.wait_finished(created["id"])
    expected = Counter(
        {
            (r["id"], e): 1
            for r in finished["runs"]
            for e in range(1, r["summary"]["epochs_run"] + 1)
        }
    )
    assert epochs_by_run(messages) == expected
    # Snapshots stream too, after their epoch (they were once stored but never sent).
    shots = {(m["run_id"], m["epoch"]) for m in messages if m["type"] == "snapshot"}
    assert {r for r, _ in shots} == run_ids
    at = {(m["type"], m["run_id"], m["epoch"]): m["cursor"] for m in messages if "epoch" in m}
    assert all(at[("epoch", r, e)] < at[("snapshot", r, e)] for r, e in shots)
    db = sqlite3.connect(server.settings.database_url.removeprefix("sqlite:///"))
    with db:
        rows = db.execute(
            "SELECT run_id, epoch, val_loss FROM epoch_metric"
            " WHERE run_id IN (SELECT id FROM run WHERE experiment_id = ?)",
            (created["id"],),
        ).fetchall()
    streamed = {(m["run_id"], m["epoch"]): m["val_loss"] for m in messages if m["type"] == "epoch"}
    assert {(r, e): v for r, e, v in rows} == streamed
    assert {m["run_id"] for m in messages if m["type"] == "summary"} == run_ids


def test_reconnecting_with_a_cursor_gets_the_rest_exactly_once(server: LiveServer) -> None:
    # Long enough to leave mid-run on a fast machine (200 epochs once finished before the
    # first ten were read back), so the reconnect meets the live stream, not only the store.
    epochs = 1500
    created = server.submit(body(epochs=epochs, n_train=200, variants=2))
    run_ids = {r["id"] for r in created["runs"]}

    first = collect(
        server,
        created["id"],
        run_ids,
        stop=lambda ms: sum(m["type"] == "epoch" for m in ms) >= 10,
    )
    assert server.experiment(created["id"])["status"] == "running"  # we left mid-run
    rest = collect(server, created["id"], run_ids, since=first[-1]["cursor"])

    both = first + rest
    assert rest and rest[0]["cursor"] > first[-1]["cursor"]
    assert len({m["cursor"] for m in both}) == len(both)
    assert set(epochs_by_run(both).values()) == {1}
    expected = [(r, e) for r in sorted(run_ids) for e in range(1, epochs + 1)]
    assert sorted(epochs_by_run(both)) == expected
    replay = collect(server, created["id"], run_ids)
    assert replay == both  # what was live is what is stored


def test_cancelling_one_member_stops_it_while_its_group_goes_on(server: LiveServer) -> None:
    created = server.submit(body(epochs=400, n_train=100, variants=3))
    victim, *others = [r["id"] for r in created["runs"]]
    wait_for(lambda: server.http.get(f"/api/runs/{victim}/metrics").json(), 60, "a first epoch")

    response = server.http.post(f"/api/runs/{victim}/cancel")

    assert response.status_code == 202
    finished = server.wait_finished(created["id"])
    runs = {r["id"]: r for r in finished["runs"]}
    assert runs[victim]["status"] == "cancelled"
    assert runs[victim]["summary"]["epochs_run"] < 400
    for other in others:
        assert runs[other]["status"] == "completed"
        assert runs[other]["summary"]["epochs_run"] == 400


def test_cancel_finished_run_is_409(server: LiveServer) -> None:
    created = server.submit(body(epochs=2, variants=1))
    server.wait_finished(created["id"])
    response = server.http.post(f"/api/runs/{created['runs'][0]['id']}/cancel")
    assert response.status_code == 409
    assert "already completed" in response.json()["detail"]
    assert server.http.post(f"/api/experiments/{created['id']}/cancel").status_code == 409


def test_killed_worker_fails_its_runs_with_a_reason_and_the_next_one_is_served(
    server: LiveServer,
) -> None:
    created = server.submit(body(epochs=2000, n_train=200, variants=2))
    run_id = created["runs"][0]["id"]
    wait_for(lambda: server.http.get(f"/api/runs/{run_id}/metrics").json(), 60, "a first epoch")
    pids = server.worker_pids()
    assert len(pids) == server.settings.workers

    for pid in pids:  # whichever worker trains the run (split or not), it is among them
        os.kill(pid, signal.SIGKILL)

    wait_for(lambda: server.run_status(run_id) == "failed", 30, "the killed worker's run to fail")
    # Were the comparison not split, runs queued behind it may still train on a replacement.
    if server.experiment(created["id"])["status"] != "finished":
        server.http.post(f"/api/experiments/{created['id']}/cancel")
    finished = server.wait_finished(created["id"], timeout=30)
    failed = [r for r in finished["runs"] if r["status"] == "failed"]
    assert failed and failed[0]["id"] == run_id
    for run in failed:
        assert "worker process died (signal 9)" in run["message"]
    after = server.submit(body(epochs=3, variants=1))
    assert server.wait_finished(after["id"])["runs"][0]["status"] == "completed"


def test_exports_hold_every_epoch(server: LiveServer) -> None:
    created = server.submit(body(epochs=3, variants=2))
    server.wait_finished(created["id"])
    base = f"/api/experiments/{created['id']}"

    csv_text = server.http.get(f"{base}/export.csv").text
    exported = server.http.get(f"{base}/export.json").json()
    report = server.http.get(f"{base}/report.html")

    lines = csv_text.strip().splitlines()
    assert lines[0].startswith(
        "experiment_id,run_name,variant,replicate,run_id,epoch,train_loss,val_loss"
    )
    assert len(lines) == 1 + 2 * 3
    assert [len(rows) for rows in exported["metrics"].values()] == [3, 3]
    assert exported["experiment"]["runs"][1]["name"] == "l2=0.01"
    assert report.headers["content-type"].startswith("text/html")
    assert "l2=0.01" in report.text and "Plotly.newPlot" in report.text
    assert "cdn" not in report.text.split("<body>")[0].lower()


def test_delete_needs_the_owner_or_the_admin_token(server: LiveServer) -> None:
    created = server.submit(body(epochs=2, variants=1), user="ada")
    path = f"/api/experiments/{created['id']}"
    server.wait_finished(created["id"])

    assert server.http.delete(path, headers=server.identity("bob")).status_code == 403
    assert server.http.delete(path, headers={"X-Reglab-User": "ada"}).status_code == 403
    assert server.http.delete(path, headers={"X-Reglab-Admin": "wrong"}).status_code == 403
    assert server.http.delete(path, headers={"X-Reglab-Admin": "sesame"}).status_code == 204
    assert server.http.get(path).status_code == 404

    mine = server.submit(body(epochs=2, variants=1), user="ada")
    server.wait_finished(mine["id"])
    deleted = server.http.delete(f"/api/experiments/{mine['id']}", headers=server.identity("ada"))
    assert deleted.status_code == 204


def test_delete_of_an_unfinished_experiment_is_409(server: LiveServer) -> None:
    created = server.submit(body(epochs=2000, variants=1), user="ada")
    path = f"/api/experiments/{created['id']}"
    response = server.http.delete(path, headers=server.identity("ada"))
    assert response.status_code == 409
    cancel = server.http.post(f"{path}/cancel", headers=server.identity("ada"))
    assert cancel.json()["cancelled"] == [created["runs"][0]["id"]]
    assert server.wait_finished(created["id"])["runs"][0]["status"] == "cancelled"


def test_cancelling_someone_elses_run_is_403_unless_admin(server: LiveServer) -> None:
    created = server.submit(body(epochs=2000, variants=2), user="ada")
    first, second = (r["id"] for r in created["runs"])

    refused = server.http.post(f"/api/runs/{first}/cancel", headers=server.identity("bob"))
    assert refused.status_code == 403
    assert "belongs to ada" in refused.json()["detail"]
    as_admin = server.http.post(
        f"/api/runs/{first}/cancel", headers={**server.identity("bob"), "X-Reglab-Admin": "sesame"}
    )
    assert as_admin.status_code == 202
    whole = server.http.post(
        f"/api/experiments/{created['id']}/cancel", headers=server.identity("bob")
    )
    assert whole.status_code == 403
    assert server.http.get(f"/api/runs/{second}").json()["status"] in {"queued", "running"}
    server.http.post(f"/api/experiments/{created['id']}/cancel", headers=server.identity("ada"))
    server.wait_finished(created["id"])


def test_cancel_everything_needs_the_admin_token_and_stops_every_users_runs(
    server: LiveServer,
) -> None:
    ada = server.submit(body(epochs=2000, variants=1), user="ada")
    bob = server.submit(body(epochs=2000, variants=1), user="bob")

    assert server.http.post("/api/admin/cancel-all").status_code == 403
    wrong = server.http.post("/api/admin/cancel-all", headers={"X-Reglab-Admin": "wrong"})
    assert wrong.status_code == 403
    done = server.http.post("/api/admin/cancel-all", headers={"X-Reglab-Admin": "sesame"})

    assert done.status_code == 202
    expected = {ada["runs"][0]["id"], bob["runs"][0]["id"]}
    assert expected <= set(done.json()["cancelled"])
    for created in (ada, bob):
        assert server.wait_finished(created["id"])["runs"][0]["status"] == "cancelled"


def test_clone_returns_a_spec_that_submits_again(server: LiveServer) -> None:
    created = server.submit(body(epochs=2, variants=2))
    spec = server.http.post(f"/api/experiments/{created['id']}/clone").json()
    again = server.submit(spec)
    assert [r["name"] for r in again["runs"]] == [r["name"] for r in created["runs"]]
    server.wait_finished(again["id"])


def test_experiments_list_by_owner_and_lesson_page_by_page(server: LiveServer) -> None:
    mine = {
        server.submit(body(epochs=1, variants=1) | {"lesson": "l1-vs-l2"}, user="grace")["id"]
        for _ in range(3)
    }
    page = server.http.get("/api/experiments?owner=grace&limit=2").json()
    rest = server.http.get("/api/experiments?owner=grace&limit=2&offset=2").json()
    assert page["total"] == 3 and len(page["items"]) == 2 and len(rest["items"]) == 1
    assert {e["owner"] for e in page["items"] + rest["items"]} == {"grace"}
    # Other tests on this server run the lesson too (a poll's class experiment): grace's three
    # are among the lesson's, and the lesson's are only its own.
    by_lesson = server.http.get("/api/experiments?lesson=l1-vs-l2&limit=200").json()
    assert mine <= {e["id"] for e in by_lesson["items"]}
    assert {e["lesson"] for e in by_lesson["items"]} == {"l1-vs-l2"}
    runs = server.http.get("/api/runs?owner=grace").json()
    assert runs["total"] == 3


def test_single_run_is_submitted_and_trained(server: LiveServer) -> None:
    response = server.http.post(
        "/api/runs?name=solo", json={"train": {"epochs": 2}, "data": {"n_train": 40}}
    )
    assert response.status_code == 201
    run = response.json()
    assert run["name"] == "solo" and run["status"] == "queued"
    finished = server.wait_finished(run["experiment_id"])
    assert finished["runs"][0]["status"] == "completed"
    assert len(server.http.get(f"/api/runs/{run['id']}/metrics").json()) == 2
    shots = server.http.get(f"/api/runs/{run['id']}/snapshots?kind=boundary").json()
    assert shots and {s["kind"] for s in shots} == {"boundary"}


def test_a_client_that_falls_behind_is_closed_with_the_resume_code(server: LiveServer) -> None:
    created = server.submit(body(epochs=2, variants=1))
    server.wait_finished(created["id"])
    stored = collect(server, created["id"], {created["runs"][0]["id"]})
    hub = server.runtime.hub

    with connect(f"{server.ws_url}/ws/experiments/{created['id']}?since=0") as ws:
        for _ in stored:
            ws.recv(timeout=10)
        wait_for(lambda: hub.subscribers(created["id"]) == 1, 10, "the live subscription")
        burst = hub.queue_size + 10  # more than its queue holds, in one go
        hub.publish([(created["id"], Frame(10**9 + i, "{}")) for i in range(burst)])
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == RESUME_CLOSE_CODE
    assert hub.subscribers(created["id"]) == 0
    # Resuming replays from the store: the real events, none of the burst (never committed).
    assert collect(server, created["id"], {created["runs"][0]["id"]}) == stored
