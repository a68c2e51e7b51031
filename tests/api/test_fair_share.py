"""Fair share and hard limits: one user cannot hold the workers, the queue, the clock or disk."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from api.conftest import LiveServer, collect, tiny
from tests.support import wait_for

pytestmark = pytest.mark.slow


def long_run(epochs: int = 2000, hidden: int = 256, n_train: int = 400) -> dict[str, Any]:
    return {
        "base": {
            "data": {"n_train": n_train},
            "model": {"hidden": [hidden, hidden]},
            "train": {"epochs": epochs, "batch_size": n_train, "snapshot_every": 100},
        }
    }


def cancel(live: LiveServer, experiment: dict[str, Any], user: str) -> None:
    live.http.post(f"/api/experiments/{experiment['id']}/cancel", headers=live.identity(user))
    live.wait_finished(experiment["id"], timeout=30)


@pytest.fixture
def shared(server: LiveServer) -> LiveServer:
    """The session's server (two workers): a user keeps one while someone else waits."""
    assert server.settings.max_running_groups_per_user == 1  # the default
    return server


def test_a_hog_holding_every_worker_gives_one_back_and_the_lesson_starts_in_seconds(
    shared: LiveServer,
) -> None:
    hog = [shared.submit(long_run(), user="hog") for _ in range(2)]
    wait_for(lambda: shared.http.get("/api/health").json()["running_groups"] == 2, 30, "2 groups")
    first = {e["id"]: e["runs"][0]["id"] for e in hog}
    wait_for(
        lambda: all(shared.http.get(f"/api/runs/{r}/metrics").json() for r in first.values()),
        30,
        "the hog's first epochs",
    )
    lessons = {lesson["name"]: lesson for lesson in shared.http.get("/api/lessons").json()}
    asked = time.monotonic()
    lesson = shared.submit(tiny(lessons["dropout-sweep"], epochs=4), user="bob")
    bob_run = lesson["runs"][0]["id"]
    wait_for(lambda: shared.http.get(f"/api/runs/{bob_run}/metrics").json(), 20, "bob's epoch")
    waited = time.monotonic() - asked
    assert waited < 10, f"bob waited {waited:.1f} s behind the hog"
    done = shared.wait_finished(lesson["id"], timeout=60)
    assert {r["status"] for r in done["runs"]} == {"completed"}

    # The hog's newest group was paused, not lost: it trains again and its viewers see each
    # epoch once, in order.
    newest = hog[1]
    run_id = first[newest["id"]]

    def resumed(messages: list[dict[str, Any]]) -> bool:
        paused = [i for i, m in enumerate(messages) if m.get("status") == "queued" and i > 0]
        if not paused:
            return False
        later = [m for m in messages[paused[0] :] if m["type"] == "epoch"]
        return len(later) >= 5

    messages = collect(shared, newest["id"], {run_id}, stop=resumed, timeout=60)
    pauses = [m for m in messages if m["type"] == "status" and m["status"] == "queued"]
    assert any("Paused so that other users' runs can start" in (m["message"] or "") for m in pauses)
    epochs = [m["epoch"] for m in messages if m["type"] == "epoch"]
    assert epochs == list(range(1, len(epochs) + 1)), "no gap and no duplicate across the pause"
    for experiment in hog:
        cancel(shared, experiment, "hog")


@pytest.fixture
def tune(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LiveServer]:
    """The session's server with some settings changed for one test (it reads them at each
    submission and each deadline check)."""

    def tuned(**values: Any) -> LiveServer:
        for name, value in values.items():
            monkeypatch.setattr(server.settings, name, value)
        return server

    return tuned


def test_a_group_past_the_time_limit_fails_with_a_reason_and_keeps_its_epochs(
    tune: Callable[..., LiveServer],
) -> None:
    # A 2 s limit that the estimate does not foresee (a very fast worker assumed).
    strict = tune(max_group_seconds=2.0, worker_gflops=1e6)
    created = strict.submit(long_run(epochs=100, hidden=512, n_train=1000), user="tim")
    run_id = created["runs"][0]["id"]
    collect(strict, created["id"], {run_id}, timeout=30)  # its last word is a summary
    run = strict.http.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "failed"
    assert "time limit" in run["message"]
    kept = strict.http.get(f"/api/runs/{run['id']}/metrics").json()
    assert 0 < len(kept) < 100
    assert [m["epoch"] for m in kept] == list(range(1, len(kept) + 1))
    assert run["summary"]["epochs_run"] == len(kept)


def test_the_queue_is_bounded_for_everyone(tune: Callable[..., LiveServer]) -> None:
    strict = tune(max_pending_groups=2)
    slow = long_run(epochs=100, hidden=512, n_train=1000)
    busy = [strict.submit(slow, user=f"q{i}") for i in range(2)]  # both workers
    wait_for(lambda: strict.http.get("/api/health").json()["running_groups"] == 2, 10, "groups")
    waiting = [strict.submit(long_run(epochs=10), user=f"q{i}") for i in (2, 3)]
    response = strict.http.post(
        "/api/experiments", json=long_run(epochs=10), headers=strict.identity("q4")
    )
    assert response.status_code == 429
    assert "queue holds 2 groups" in response.json()["detail"]
    for i, experiment in enumerate([*busy, *waiting]):
        cancel(strict, experiment, f"q{i}")


def test_stored_bytes_per_user_are_bounded_until_old_experiments_are_deleted(
    tune: Callable[..., LiveServer],
) -> None:
    strict = tune(max_stored_mb_per_user=0.5)
    body = {"base": {"model": {"hidden": [8]}, "train": {"epochs": 200, "snapshot_every": 20}}}
    first = strict.submit(body, user="sam")
    strict.wait_finished(first["id"])
    response = strict.http.post("/api/experiments", json=body, headers=strict.identity("sam"))
    assert response.status_code == 429
    detail = response.json()["detail"]
    assert "sam's experiments take ~" in detail and "the limit is 500 KB per user" in detail
    strict.submit(body, user="someone else")  # a quota of sam's only
    gone = strict.http.delete(f"/api/experiments/{first['id']}", headers=strict.identity("sam"))
    assert gone.status_code == 204
    strict.submit(body, user="sam")
