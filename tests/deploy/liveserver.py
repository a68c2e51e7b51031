"""A reglab server in this process (uvicorn on a free port) and a reader of its websocket."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from reglab.api.app import create_app
from reglab.config import Settings
from websockets.sync.client import connect

from tests.support import free_port, wait_for

EPOCH_COLUMNS = ("epoch", "train_loss", "val_loss", "train_acc", "val_acc", "weight_l2")


@dataclass
class Live:
    url: str
    db: Path
    http: httpx.Client

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post("/api/experiments", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def run_status(self, run_id: int) -> str:
        status: str = self.http.get(f"/api/runs/{run_id}").json()["status"]
        return status

    def stored_epochs(self, run_id: int) -> list[tuple[Any, ...]]:
        """Rows of epoch_metric as the SQLite file holds them, read with sqlite3 itself."""
        with sqlite3.connect(self.db) as conn:
            rows = conn.execute(
                f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epoch_metric "
                "WHERE run_id = ? ORDER BY epoch",
                (run_id,),
            ).fetchall()
        return [tuple(r) for r in rows]


@contextmanager
def serving(tmp: Path, **settings: Any) -> Iterator[Live]:
    """create_app(Settings(...)) under uvicorn in a thread; stopped (executor included) on exit."""
    db = tmp / "reglab.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}", **settings))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 60, "uvicorn to start")
    # One display name for every request: the owner of what it submits may also cancel it.
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"X-Reglab-User": "t"}
    )
    try:
        yield Live(f"http://127.0.0.1:{port}", db, http)
    finally:
        http.close()
        server.should_exit = True
        thread.join(timeout=60)
        assert not thread.is_alive(), "the server did not stop"


def stream(
    live: Live, experiment_id: int, until: Callable[[list[dict[str, Any]]], bool], timeout: float
) -> list[dict[str, Any]]:
    """Messages of the experiment's websocket from the start, until `until(messages)` holds."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with connect(f"{live.ws_url}/ws/experiments/{experiment_id}?since=0") as ws:
        while not until(messages):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the stream stalled after {len(messages)} messages"
            messages.append(json.loads(ws.recv(timeout=remaining)))
    return messages


def summarized(run_ids: set[int]) -> Callable[[list[dict[str, Any]]], bool]:
    """Every run has sent its summary, the engine's last word on a run."""
    return lambda ms: run_ids <= {m["run_id"] for m in ms if m["type"] == "summary"}


def streamed_epochs(messages: list[dict[str, Any]], run_id: int) -> list[tuple[Any, ...]]:
    return [
        tuple(m[c] for c in EPOCH_COLUMNS)
        for m in messages
        if m["type"] == "epoch" and m["run_id"] == run_id
    ]
