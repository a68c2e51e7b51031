"""A server started on a store a dead server left behind; per-user quotas that others never feel."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reglab.events import EpochEvent, StatusEvent
from reglab.spec import ExperimentSpec
from reglab.store.log import EventLog
from reglab.store.repo import Store

from api.conftest import LiveServer, collect, settings_for, start_server
from tests.support import wait_for

pytestmark = pytest.mark.slow


def small(epochs: int, variants: int = 1) -> dict[str, Any]:
    return {
        "base": {"train": {"epochs": epochs}, "data": {"n_train": 60}, "model": {"hidden": [8]}},
        "variants": [{"name": f"v{i}"} for i in range(variants)],
    }


@pytest.fixture(scope="module")
def left_behind(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int], list[int]]:
    """A store as a killed server leaves it: two runs mid-training, one never started."""
    tmp = tmp_path_factory.mktemp("restart")
    store = Store(f"sqlite:///{tmp / 'reglab.db'}")
    crashed, _ = store.create_experiment(
        owner="old", spec=ExperimentSpec.model_validate(small(50, variants=2))
    )
    waiting, _ = store.create_experiment(owner="old", spec=ExperimentSpec.model_validate(small(3)))
    running = [r.id for r in crashed.runs]
    EventLog(store).record([StatusEvent(r, "running") for r in running])
    EventLog(store).record(
        [
            EpochEvent(r, 1, 0.5, 0.6, 0.8, 0.7, 0.01, 1.0, 1.0, 0.0, [0.1], 0.01, 0.1)
            for r in running
        ]
    )
    store.close()
    return tmp, running, [r.id for r in waiting.runs]


@pytest.fixture(scope="module")
def restarted(left_behind: tuple[Path, list[int], list[int]]) -> Iterator[LiveServer]:
    settings = settings_for(
        left_behind[0],
        workers=1,
        max_queued_experiments_per_user=1,
        max_member_epochs_per_user=3000,
        cancel_grace_s=1.0,
        requeue_interrupted=False,  # the runs that come back are tests/api/test_recovery.py's
    )
    live = start_server(settings)
    yield live
    live.stop()


def test_runs_left_running_are_marked_interrupted_with_a_reason(
    restarted: LiveServer, left_behind: tuple[Path, list[int], list[int]]
) -> None:
    for run_id in left_behind[1]:
        run = restarted.http.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted"
        assert "server stopped" in run["message"]
        assert len(restarted.http.get(f"/api/runs/{run_id}/metrics").json()) == 1


def test_runs_left_queued_are_trained_after_the_restart(
    restarted: LiveServer, left_behind: tuple[Path, list[int], list[int]]
) -> None:
    (run_id,) = left_behind[2]
    experiment = restarted.http.get(f"/api/runs/{run_id}").json()["experiment_id"]
    finished = restarted.wait_finished(experiment)
    assert finished["runs"][0]["status"] == "completed"


def test_over_quota_is_429_while_other_users_are_served(restarted: LiveServer) -> None:
    first = restarted.submit(small(2000), user="ada")
    second = restarted.http.post(
        "/api/experiments", json=small(2), headers=restarted.identity("ada")
    )
    assert second.status_code == 429
    assert "unfinished experiments" in second.json()["detail"]

    other = restarted.submit(small(2), user="bob")  # bob is served although ada's run trains
    health = restarted.http.get("/api/health").json()
    # One worker: the global limit holds bob's group in the queue until the slot frees.
    assert (health["running_groups"], health["pending_groups"]) == (1, 1)
    assert restarted.experiment(other["id"])["status"] == "queued"
    restarted.http.post(f"/api/experiments/{first['id']}/cancel", headers=restarted.identity("ada"))
    assert restarted.wait_finished(other["id"])["runs"][0]["status"] == "completed"
    assert restarted.wait_finished(first["id"])["runs"][0]["status"] == "cancelled"


def test_too_many_epochs_for_one_user_is_429_naming_the_limit(restarted: LiveServer) -> None:
    response = restarted.http.post(
        "/api/experiments", json=small(1000, variants=4), headers={"X-Reglab-User": "cy"}
    )
    assert response.status_code == 429
    assert "limit is 3000" in response.json()["detail"]


def test_a_worker_deaf_to_cancel_is_killed_and_replaced(restarted: LiveServer) -> None:
    restarted.wait_ready()
    created = restarted.submit(small(1400, variants=2), user="dee")
    run_ids = [r["id"] for r in created["runs"]]
    wait_for(lambda: restarted.http.get(f"/api/runs/{run_ids[0]}/metrics").json(), 60, "an epoch")
    [pid] = restarted.worker_pids()  # the one worker, training both runs
    os.kill(pid, signal.SIGSTOP)  # frozen: it cannot see the cancel flag

    cancel = restarted.http.post(
        f"/api/experiments/{created['id']}/cancel", headers=restarted.identity("dee")
    )
    assert cancel.status_code == 202

    finished = restarted.wait_finished(created["id"], timeout=30)
    for run in finished["runs"]:
        assert run["status"] == "cancelled"
        assert "did not stop within 1 s and was replaced" in run["message"]
    # A stream reader learns that no summary will come for these runs, so it stops waiting.
    messages = collect(restarted, created["id"], set(run_ids), timeout=20)
    ends = [m for m in messages if m["type"] == "status" and m["status"] == "cancelled"]
    assert {m["run_id"] for m in ends if m["last"]} == set(run_ids)
    after = restarted.submit(small(2), user="dee")
    assert restarted.wait_finished(after["id"])["runs"][0]["status"] == "completed"
