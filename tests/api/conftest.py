"""A real reglab server for API tests: uvicorn on a free port, a SQLite file, spawned workers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from reglab.api.app import create_app
from reglab.config import Settings
from reglab.jobs.runtime import Runtime
from websockets.sync.client import connect

from tests.support import free_port, wait_for


@dataclass
class LiveServer:
    settings: Settings
    url: str
    ws_url: str
    server: uvicorn.Server
    thread: threading.Thread
    app: Any
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        # Requests are the default submitter's ("tester"), who may cancel what they submitted.
        self.http = httpx.Client(base_url=self.url, timeout=30, headers={"X-Reglab-User": "tester"})

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "server did not stop"

    def wait_ready(self, timeout: float = 90) -> None:
        workers = self.settings.workers
        wait_for(
            lambda: self.http.get("/api/health").json()["workers_ready"] == workers,
            timeout,
            "warm workers",
        )

    def submit(self, body: dict[str, Any], user: str = "tester") -> dict[str, Any]:
        response = self.http.post("/api/experiments", json=body, headers={"X-Reglab-User": user})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def experiment(self, experiment_id: int) -> dict[str, Any]:
        got: dict[str, Any] = self.http.get(f"/api/experiments/{experiment_id}").json()
        return got

    def wait_finished(self, experiment_id: int, timeout: float = 90) -> dict[str, Any]:
        found: dict[str, Any] = wait_for(
            lambda: (e := self.experiment(experiment_id))["status"] == "finished" and e,
            timeout,
            f"experiment {experiment_id} to finish",
        )
        return found


def start_server(settings: Settings) -> LiveServer:
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 60, "uvicorn to start")
    return LiveServer(
        settings, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", server, thread, app
    )


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": f"sqlite:///{tmp / 'reglab.db'}", "workers": 2}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server shared by the API tests: 2 warm workers, default quotas."""
    live = start_server(settings_for(tmp_path_factory.mktemp("server"), admin_token="sesame"))
    live.wait_ready()
    yield live
    live.stop()


def is_done(messages: list[dict[str, Any]], run_ids: set[int]) -> bool:
    """Every run has said its last word: a summary, or a final status no summary follows."""
    done = set()
    for m in messages:
        if m["type"] == "summary" or (
            (m["type"] == "status" and m["status"] in {"failed", "interrupted"})
            or m.get("message") == "Cancelled before it started."
        ):
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
    stop = stop or (lambda ms: is_done(ms, run_ids))
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with connect(f"{live.ws_url}/ws/experiments/{experiment_id}?since={since}") as ws:
        while not stop(messages):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"stream timed out; got {len(messages)} messages"
            messages.append(json.loads(ws.recv(timeout=remaining)))
    return messages


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
