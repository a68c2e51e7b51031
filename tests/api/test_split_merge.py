"""Idle workers split a big group, a backed-up queue merges small ones — and every run's numbers
stay those of the same run trained alone (here, in this process)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from reglab.events import EpochEvent
from reglab.spec import RunSpec
from reglab.training.loop import train_group
from reglab.training.plan import Group, Member

from api.conftest import LiveServer, settings_for, start_server
from tests.support import wait_for


def comparison(seed: int, repeats: int, epochs: int) -> dict[str, Any]:
    return {
        "name": f"seed {seed}",
        "repeats": repeats,
        "base": {
            # One data set for all: only groups that share their data can share a batch.
            "data": {"kind": "moons", "n_train": 200, "noise": 0.3},
            "model": {"hidden": [32, 32], "init_seed": seed},
            "train": {"epochs": epochs, "batch_size": 10, "seed": seed, "snapshot_every": epochs},
        },
        "variants": [
            {"name": "none"},
            {"name": "dropout", "override": {"regularization": {"dropout": 0.3}}},
        ],
    }


def alone(spec: dict[str, Any]) -> list[float]:
    """Validation loss per epoch of this run trained by itself, in this process."""
    torch.set_num_threads(1)
    group = Group((Member(0, "alone", RunSpec.model_validate(spec)),))
    return [e.val_loss for e in train_group(group) if isinstance(e, EpochEvent)]


def assert_trained_as_alone(live: LiveServer, experiment: dict[str, Any]) -> None:
    for run in experiment["runs"]:
        stored = live.http.get(f"/api/runs/{run['id']}/metrics").json()
        assert [m["val_loss"] for m in stored] == pytest.approx(alone(run["spec"]), abs=1e-6)


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    live = start_server(settings_for(tmp_path, **request.param))
    live.wait_ready()
    yield live
    live.stop()


def watch(live: LiveServer, key: str, until: Any, timeout: float = 120) -> list[int]:
    """Every distinct value of /api/health's `key`, in order, until `until()` holds."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while not until():
        value = live.http.get("/api/health").json()[key]
        if not seen or seen[-1] != value:
            seen.append(value)
        assert time.monotonic() < deadline, f"timed out; {key} went {seen}"
        time.sleep(0.05)
    return seen


def finished(live: LiveServer, experiment_id: int) -> bool:
    return all(r["status"] == "completed" for r in live.experiment(experiment_id)["runs"])


@pytest.mark.parametrize("server", [{"workers": 2}], indirect=True)
def test_one_students_repeats_train_on_both_idle_workers(server: LiveServer) -> None:
    created = server.submit(comparison(seed=1, repeats=4, epochs=30))
    running = watch(server, "running_groups", lambda: finished(server, created["id"]))
    assert 2 in running  # the 8 runs were split over the two idle workers
    assert_trained_as_alone(server, server.experiment(created["id"]))


@pytest.mark.parametrize("server", [{"workers": 1, "merge_group_size": 24}], indirect=True)
def test_small_groups_waiting_together_are_merged_into_one(server: LiveServer) -> None:
    busy = server.submit(comparison(seed=2, repeats=1, epochs=150), user="hog")
    wait_for(lambda: server.http.get("/api/health").json()["running_groups"] == 1, 60, "busy")
    small = [
        server.submit(comparison(seed=s, repeats=1, epochs=10), user=f"s{s}") for s in (3, 4, 5)
    ]
    assert server.http.get("/api/health").json()["pending_groups"] == 3
    pending = watch(server, "pending_groups", lambda: all(finished(server, e["id"]) for e in small))
    assert pending[0] == 3 and 1 not in pending and 2 not in pending  # 3 → 0 at once: merged
    assert finished(server, busy["id"])
    for exp in small:
        assert_trained_as_alone(server, server.experiment(exp["id"]))


@pytest.mark.parametrize("server", [{"workers": 1, "merge_group_size": 1}], indirect=True)
def test_merging_off_trains_waiting_groups_one_by_one(server: LiveServer) -> None:
    server.submit(comparison(seed=2, repeats=1, epochs=60), user="hog")
    wait_for(lambda: server.http.get("/api/health").json()["running_groups"] == 1, 60, "busy")
    small = [server.submit(comparison(seed=s, repeats=1, epochs=10), user=f"s{s}") for s in (3, 4)]
    pending = watch(server, "pending_groups", lambda: all(finished(server, e["id"]) for e in small))
    assert 1 in pending  # one after the other
