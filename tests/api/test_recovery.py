"""A server killed with SIGKILL: its workers die with it, leftovers are reaped, runs come back."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from reglab.jobs.pidfile import listed_workers, reap_leftovers, write_pidfile
from reglab.store.repo import Store

from tests.support import Api, end_process, reglab_serve, wait_for

pytestmark = pytest.mark.slow

EPOCHS = 300
COLUMNS = ("train_loss", "val_loss", "train_acc", "val_acc", "weight_l1", "weight_l2")
COLUMNS += ("sparsity", "step_size")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def worker_pids(db: Path) -> list[int]:
    return listed_workers(Path(str(db) + ".workers"))


def metrics(api: Api, run_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.http.get(f"/api/runs/{run_id}/metrics").json()
    return found


def dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_listed_by_a_live_server_are_not_reaped(tmp_path: Path) -> None:
    worker = subprocess.Popen(["sleep", "300"])
    try:
        listed = tmp_path / "reglab.db.workers"
        write_pidfile(listed, [worker.pid], server=worker.pid)  # its "server" lives
        assert reap_leftovers(listed) == 0 and worker.poll() is None
        write_pidfile(listed, [worker.pid], server=dead_pid())
        assert reap_leftovers(listed) == 1
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        end_process(worker, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_killed_server_takes_its_workers_and_its_runs_train_again_without_a_gap(
    tmp_path: Path,
) -> None:
    db = tmp_path / "reglab.db"
    # A process a previous server left behind, listed where servers list their workers.
    leftover = subprocess.Popen(["sleep", "300"])
    write_pidfile(Path(str(db) + ".workers"), [leftover.pid], server=dead_pid())

    body = {
        "base": {
            "data": {"n_train": 200},
            "model": {"hidden": [32, 32]},
            "regularization": {"dropout": 0.2},
            "train": {"epochs": EPOCHS, "snapshot_every": 50},
        },
        "variants": [{"name": "a"}, {"name": "b", "override": {"optimizer": {"lr": 0.003}}}],
    }
    # Two workers for one group: one trains, one waits for work (and would never notice its
    # server's death by a failed send).
    with reglab_serve(tmp_path, REGLAB_WORKERS="2", REGLAB_SHARE_RUNS="true") as api:
        assert leftover.wait(timeout=10) == -signal.SIGKILL, "the leftover was reaped at start"
        created = api.submit(body)
        runs = [r["id"] for r in created["runs"]]
        wait_for(lambda: len(metrics(api, runs[0])) >= 20, 60, "20 epochs")
        # Another student asks for the same comparison: it follows the first, across the kill.
        follower = api.submit(body, user="bob")
        followers = [r["id"] for r in follower["runs"]]
        assert [r["shared_from"] for r in follower["runs"]] == runs
        workers = worker_pids(db)
        assert api.process is not None
        api.process.kill()  # SIGKILL: no shutdown code runs
        api.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers), "workers outlived their server"

    store = Store(f"sqlite:///{db}")  # what the killed server had committed
    before = {run_id: store.metrics(run_id) for run_id in runs}
    store.close()
    assert all(0 < len(rows) < EPOCHS for rows in before.values()), "killed mid-training"

    with reglab_serve(tmp_path, REGLAB_WORKERS="1", REGLAB_SHARE_RUNS="true") as api:
        finished = api.wait_finished(created["id"], timeout=90)
        assert [r["status"] for r in finished["runs"]] == ["completed", "completed"]
        followed = api.wait_finished(follower["id"], timeout=30)
        assert [r["status"] for r in followed["runs"]] == ["completed", "completed"]
        assert [r["shared_from"] for r in followed["runs"]] == runs, "followed again, not retrained"
        for mine, theirs in zip(followers, runs, strict=True):
            assert [m["train_loss"] for m in metrics(api, mine)] == [
                m["train_loss"] for m in metrics(api, theirs)
            ]
        for run_id in runs:
            after = metrics(api, run_id)
            assert [m["epoch"] for m in after] == list(range(1, EPOCHS + 1))
            for old, new in zip(before[run_id], after, strict=False):
                for column in COLUMNS:  # retrained from its seeds: the same numbers
                    assert getattr(old, column) == new[column], (run_id, old.epoch, column)
                assert old.grad_norms == new["grad_norms"]
        # A viewer replaying the whole stream sees every epoch of each run once, in order.
        messages = api.read_stream(
            created["id"],
            lambda ms: sum(m["type"] == "summary" for m in ms) == len(runs),
            timeout=30,
        )
        for run_id in runs:
            epochs = [
                m["epoch"] for m in messages if m["type"] == "epoch" and m["run_id"] == run_id
            ]
            assert epochs == list(range(1, EPOCHS + 1))
            said = [m.get("message") or "" for m in messages if m["run_id"] == run_id]
            assert any("trains again from its seeds" in message for message in said)
        # The follower's stream: its computation's epochs, each once, in order, as its own.
        theirs = api.read_stream(
            follower["id"],
            lambda ms: sum(m["type"] == "summary" for m in ms) == len(followers),
            timeout=30,
        )
        for run_id in followers:
            epochs = [m["epoch"] for m in theirs if m["type"] == "epoch" and m["run_id"] == run_id]
            assert epochs == list(range(1, EPOCHS + 1))
