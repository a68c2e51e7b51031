"""Deaf websocket clients on a big finished experiment: capped, dropped, and nobody else waits.

Reduced from the measured failure (200 clients never reading a 29 k-event replay took the server
from 655 MB to 2.4 GB and /api/health to 52 s): 30 raw sockets that handshake and never read,
on 3,000 stored events (6.7 MB to replay), against a server allowing 20 streams and a 3 s send
timeout.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reglab.events import EpochEvent, SnapshotEvent, StatusEvent
from reglab.live import BUSY_CLOSE_CODE
from reglab.spec import ExperimentSpec
from reglab.store.log import EventLog
from reglab.store.repo import Store
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.conftest import LiveServer, settings_for, start_server
from tests.support import wait_for

pytestmark = pytest.mark.slow
EPOCHS = 1500  # an epoch and a ~4 KB snapshot each: 3,000 events to replay
DEAF = 30
MAX_STREAMS = 20


def stored_experiment(tmp: Path) -> tuple[int, int]:
    """A finished one-run experiment with EPOCHS epochs, each with a histogram snapshot."""
    store = Store(f"sqlite:///{tmp / 'reglab.db'}")
    spec = ExperimentSpec.model_validate({"base": {"train": {"epochs": EPOCHS}}})
    experiment, _ = store.create_experiment(owner="old", spec=spec)
    run = experiment.runs[0].id
    histogram = {"edges": [i / 7 for i in range(200)], "counts": [i * 3 for i in range(199)]}
    EventLog(store).record([StatusEvent(run, "running")])
    for start in range(1, EPOCHS + 1, 250):
        events: list[EpochEvent | SnapshotEvent] = []
        for epoch in range(start, min(start + 250, EPOCHS + 1)):
            events.append(
                EpochEvent(run, epoch, 0.5, 0.6, 0.8, 0.7, 0.01, 1.0, 1.0, 0.0, [0.1], 0.01, 0.1)
            )
            events.append(SnapshotEvent(run, epoch, "histogram", {"layers": [histogram]}))
        EventLog(store).record(events)
    EventLog(store).record([StatusEvent(run, "completed", last=True)])
    store.close()
    return experiment.id, 2 * EPOCHS + 2


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int, int]]:
    tmp = tmp_path_factory.mktemp("deaf")
    experiment_id, events = stored_experiment(tmp)
    live = start_server(
        settings_for(
            tmp,
            workers=1,
            ws_max_connections=MAX_STREAMS,
            ws_max_per_client=100,
            ws_send_timeout_s=3.0,
        )
    )
    yield live, experiment_id, events
    live.stop()


def deaf_client(url: str, path: str) -> socket.socket:
    """A websocket handshake sent on a socket nobody ever reads from (with a small buffer)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    return sock


def memory_kib(field: str) -> int:
    """VmRSS or VmHWM (peak) of this process, which serves the app in a thread."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def test_deaf_clients_are_capped_and_dropped_while_health_answers_and_memory_stays_bounded(
    crowded: tuple[LiveServer, int, int],
) -> None:
    live, experiment_id, _ = crowded
    before = memory_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) counts from here
    sockets = [
        deaf_client(live.url, f"/ws/experiments/{experiment_id}?since=0") for _ in range(DEAF)
    ]
    admission = live.app.state.streams
    try:
        wait_for(lambda: admission.count == MAX_STREAMS, 10, "the deaf clients to fill the cap")
        url = f"{live.ws_url}/ws/experiments/{experiment_id}"
        with connect(url) as ws, pytest.raises(ConnectionClosed) as refused:
            ws.recv(timeout=10)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == BUSY_CLOSE_CODE
        assert "limit" in refused.value.rcvd.reason
        streams = admission.count
        started = time.monotonic()
        health = live.http.get("/api/health")
        answered_in = time.monotonic() - started
        assert health.status_code == 200
        # 26 s before streams were bounded; the bound leaves room for a loaded 2-core machine.
        assert answered_in < 3.0, f"/api/health took {answered_in:.1f} s beside deaf clients"
        assert streams <= MAX_STREAMS, f"{streams} streams open; the cap is {MAX_STREAMS}"
        started = time.monotonic()
        wait_for(
            lambda: admission.count == 0 and live.runtime.hub.subscribers(experiment_id) == 0,
            60,
            "the deaf clients to be dropped after the send timeout",
        )
        grown_mib = (memory_kib("VmHWM") - before) / 1024
        dropped_in = time.monotonic() - started
        print(
            f"deaf clients: health {answered_in:.3f} s, {streams} streams, +{grown_mib:.0f} MiB,"
            f" all dropped within {dropped_in:.1f} s"
        )
        assert grown_mib < 100, f"the server grew by {grown_mib:.0f} MiB for {DEAF} deaf clients"
    finally:
        for sock in sockets:
            sock.close()


def test_a_reading_client_still_gets_the_whole_replay_in_order(
    crowded: tuple[LiveServer, int, int],
) -> None:
    live, experiment_id, events = crowded
    wait_for(lambda: live.app.state.streams.count == 0, 60, "the deaf clients to be gone")
    messages = live.read_stream(experiment_id, lambda ms: len(ms) >= events, timeout=60)
    cursors = [m["cursor"] for m in messages]
    assert cursors == sorted(set(cursors)) and len(cursors) == events
    snapshots = [m for m in messages if m["type"] == "snapshot"]
    assert len(snapshots) == EPOCHS and snapshots[-1]["data"]["layers"][0]["counts"][-1] == 594
