"""A real reglab server for API tests: uvicorn on a free port, a SQLite file, spawned workers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reglab.api.app import create_app
from reglab.config import Settings
from reglab.jobs.pidfile import listed_workers, worker_pidfile
from reglab.jobs.runtime import Runtime

from tests.support import Api, Uvicorn, start_uvicorn, wait_for


class LiveServer(Api):
    """create_app(settings) served in this process, with its runtime at hand for the tests."""

    def __init__(self, settings: Settings, app: Any, served: Uvicorn) -> None:
        super().__init__(served.url)
        self.settings = settings
        self.app = app
        self.served = served

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def stop(self) -> None:
        self.http.close()
        self.served.stop()

    def wait_ready(self, timeout: float = 90) -> None:
        workers = self.settings.workers
        wait_for(
            lambda: self.http.get("/api/health").json()["workers_ready"] == workers,
            timeout,
            "warm workers",
        )

    def worker_pids(self) -> list[int]:
        """The local workers' pids, from the list the server keeps for the next one to reap."""
        return listed_workers(worker_pidfile(self.settings.database_url))


def start_server(settings: Settings) -> LiveServer:
    app = create_app(settings)
    return LiveServer(settings, app, start_uvicorn(app))


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    # share_runs off: the tests resubmit identical specs and expect them to train (sharing has
    # its own tests, which turn it on).
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp / 'reglab.db'}",
        "workers": 2,
        "share_runs": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server shared by the API tests: 2 warm workers, default quotas but for unfinished
    experiments per user: many tests submit as the default user, and on a loaded machine the
    earlier ones' long runs may still be stopping (the quota has its own test and server)."""
    tmp = tmp_path_factory.mktemp("server")
    live = start_server(
        settings_for(tmp, admin_token="sesame", max_queued_experiments_per_user=100)
    )
    live.wait_ready()
    yield live
    live.stop()


def is_done(messages: list[dict[str, Any]], run_ids: set[int]) -> bool:
    """Every run has said its last word: a summary, or a final status no summary follows."""
    done = set()
    for m in messages:
        if m["type"] == "summary" or (m["type"] == "status" and m.get("last")):
            done.add(m["run_id"])
    return run_ids <= done


def collect(
    live: LiveServer,
    experiment_id: int,
    run_ids: set[int],
    since: int = 0,
    stop: Callable[[list[dict[str, Any]]], bool] | None = None,
    timeout: float = 90,
) -> list[dict[str, Any]]:
    """Messages of the experiment's socket from `since` until every run is done (or `stop`)."""
    until = stop or (lambda ms: is_done(ms, run_ids))
    return live.read_stream(experiment_id, until, since=since, timeout=timeout)


def tiny(lesson: dict[str, Any], epochs: int = 4, n_train: int = 60) -> dict[str, Any]:
    """A lesson's spec made small enough for a test: few epochs, little data."""
    spec = json.loads(json.dumps(lesson["spec"]))
    spec["base"]["train"]["epochs"] = epochs
    spec["base"]["train"]["snapshot_every"] = 2
    spec["base"]["data"]["n_train"] = n_train
    for variant in spec.get("variants", []):
        train = variant["override"].get("train", {})
        if "epochs" in train:
            train["epochs"] = epochs
    return spec
