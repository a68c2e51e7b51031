"""Identical runs computed once, through a real server with sharing on: served from the store
when finished, followed live when under way, and each run still its own (cancel, delete)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.conftest import LiveServer, collect, settings_for, start_server
from tests.support import wait_for


def spec(epochs: int, seed: int = 3) -> dict[str, Any]:
    """Two variants; `epochs` long enough to be caught under way."""
    return {
        "name": "shared",
        "base": {
            "data": {"kind": "moons", "n_train": 300, "noise": 0.3, "seed": seed},
            "model": {"hidden": [64, 64], "init_seed": seed},
            "train": {"epochs": epochs, "batch_size": 8, "seed": seed, "snapshot_every": 5},
        },
        "variants": [
            {"name": "none"},
            {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
        ],
    }


@pytest.fixture(scope="module")
def sharing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("sharing")
    live = start_server(settings_for(tmp, share_runs=True, workers=1, admin_token="sesame"))
    live.wait_ready()
    yield live
    live.stop()


def metrics(live: LiveServer, run_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = live.http.get(f"/api/runs/{run_id}/metrics").json()
    return [{k: v for k, v in r.items() if k != "run_id"} for r in rows]


def started(live: LiveServer, experiment_id: int) -> bool:
    runs = live.experiment(experiment_id)["runs"]
    return all(r["status"] == "running" for r in runs) and bool(
        live.http.get(f"/api/runs/{runs[0]['id']}/metrics").json()
    )


def test_a_run_under_way_is_followed_live_and_a_finished_one_is_served(
    sharing: LiveServer,
) -> None:
    first = sharing.submit(spec(epochs=60), user="ada")
    wait_for(lambda: started(sharing, first["id"]), 60, "the first comparison to train")
    second = sharing.submit(spec(epochs=60), user="bob")
    sources = [r["id"] for r in first["runs"]]
    assert [r["shared_from"] for r in sharing.experiment(second["id"])["runs"]] == sources
    # Bob's socket, from the start: every epoch of his runs exactly once, none missing.
    ids = {r["id"] for r in second["runs"]}
    messages = collect(sharing, second["id"], ids, timeout=120)
    for run_id in ids:
        epochs = [m["epoch"] for m in messages if m["type"] == "epoch" and m["run_id"] == run_id]
        assert epochs == list(range(1, 61))
    a, b = sharing.wait_finished(first["id"]), sharing.wait_finished(second["id"])
    for mine, theirs in zip(b["runs"], a["runs"], strict=True):
        assert mine["status"] == theirs["status"] == "completed"
        assert metrics(sharing, mine["id"]) == metrics(sharing, theirs["id"])
        assert mine["summary"]["final_val_loss"] == theirs["summary"]["final_val_loss"]
        assert mine["summary"]["extra"]["shared_from"] == theirs["id"]
    # Later, a third student: served from the store at once, the same numbers.
    third = sharing.submit(spec(epochs=60), user="cy")
    assert all(r["status"] == "completed" for r in third["runs"])
    for mine, theirs in zip(third["runs"], a["runs"], strict=True):
        assert mine["shared_from"] == theirs["id"]
        assert metrics(sharing, mine["id"]) == metrics(sharing, theirs["id"])
    # Each is its own run: deleting the source keeps the copy whole.
    deleted = sharing.http.delete(
        f"/api/experiments/{first['id']}", headers=sharing.identity("ada")
    )
    assert deleted.status_code == 204
    assert len(metrics(sharing, third["runs"][0]["id"])) == 60


def test_an_idle_queue_means_every_follower_is_over(sharing: LiveServer) -> None:
    # What bench/scheduling.py stops its clock on: a follower's final status is recorded with
    # its computation's, before that group leaves the queue.
    first = sharing.submit(spec(epochs=40, seed=11), user="ada")
    wait_for(lambda: started(sharing, first["id"]), 60, "the first comparison to train")
    followers = [sharing.submit(spec(epochs=40, seed=11), user=f"f{i}") for i in range(3)]

    def idle() -> bool:
        health = sharing.http.get("/api/health").json()
        return not (health["pending_groups"] or health["running_groups"])

    wait_for(idle, 120, "the queue to empty")
    for experiment in [first, *followers]:
        runs = sharing.experiment(experiment["id"])["runs"]
        assert [r["status"] for r in runs] == ["completed", "completed"]
    assert all(r["shared_from"] for f in followers for r in sharing.experiment(f["id"])["runs"])


def test_another_seed_is_another_computation(sharing: LiveServer) -> None:
    one = sharing.submit(spec(epochs=3, seed=11), user="ada")
    other = sharing.submit(spec(epochs=3, seed=12), user="bob")
    assert all(r["shared_from"] is None for r in other["runs"])
    for exp in (one, other):
        assert all(r["status"] == "completed" for r in sharing.wait_finished(exp["id"])["runs"])


def test_cancelling_a_shared_run_stops_the_computation_only_when_nobody_else_follows(
    sharing: LiveServer,
) -> None:
    first = sharing.submit(spec(epochs=150, seed=21), user="ada")
    wait_for(lambda: started(sharing, first["id"]), 60, "the first comparison to train")
    second = sharing.submit(spec(epochs=150, seed=21), user="bob")
    source, follower = first["runs"][0]["id"], second["runs"][0]["id"]
    # Ada cancels her run: Bob's copy goes on to the end.
    response = sharing.http.post(f"/api/runs/{source}/cancel", headers=sharing.identity("ada"))
    assert response.status_code == 202
    done = sharing.wait_finished(second["id"])
    assert [r["status"] for r in done["runs"]] == ["completed", "completed"]
    assert sharing.run_status(source) == "cancelled"
    assert len(metrics(sharing, follower)) == 150
    assert len(metrics(sharing, source)) < 150  # it stopped receiving at the cancel


def test_a_follower_that_leaves_stops_only_itself(sharing: LiveServer) -> None:
    first = sharing.submit(spec(epochs=150, seed=31), user="ada")
    wait_for(lambda: started(sharing, first["id"]), 60, "the first comparison to train")
    second = sharing.submit(spec(epochs=150, seed=31), user="bob")
    follower = second["runs"][1]["id"]
    response = sharing.http.post(f"/api/runs/{follower}/cancel", headers=sharing.identity("bob"))
    assert response.status_code == 202
    assert sharing.run_status(follower) == "cancelled"
    done = sharing.wait_finished(first["id"])
    assert [r["status"] for r in done["runs"]] == ["completed", "completed"]
    assert sharing.wait_finished(second["id"])["runs"][0]["status"] == "completed"
