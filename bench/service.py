"""What the service adds to training: whole-service vs bare loop, queue latency, stream latency.

Starts a real server in this process (uvicorn on a free port, a SQLite file in a temp dir, one warm
spawned worker) and measures, on the same machine in one go:

1. one run through the whole service (POST → summary on the websocket) vs the same run trained by
   `train_group` in this process with one torch thread (target ≥ 0.95);
2. queued → first epoch event on the websocket with a warm pool (target < 0.5 s);
3. epoch event → websocket client: from the moment the API process receives the event from the
   worker to the moment a websocket client in this process has it (target p99 < 100 ms).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import torch
import uvicorn
from reglab.api.app import create_app
from reglab.config import Settings
from reglab.events import EpochEvent, Event
from reglab.jobs.runtime import Runtime
from reglab.spec import RunSpec
from reglab.training.loop import train_group
from reglab.training.plan import Group, Member
from websockets.sync.client import connect

# ~2 s of training on one core: long enough that fixed costs would show, short enough to repeat.
RUN: dict[str, Any] = {
    "data": {"kind": "moons", "n_train": 600},
    "model": {"hidden": [64, 64]},
    "train": {"epochs": 200, "batch_size": 32, "snapshot_every": 10},
}


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, Any, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, app, f"127.0.0.1:{port}"


def _until(ws: Any, done: Any) -> list[tuple[float, dict[str, Any]]]:
    got: list[tuple[float, dict[str, Any]]] = []
    while True:
        message = json.loads(ws.recv(timeout=120))
        got.append((time.perf_counter(), message))
        if done(message):
            return got


def _bare_seconds() -> float:
    spec = RunSpec.model_validate(RUN)
    started = time.perf_counter()
    for _ in train_group(Group((Member(0, "bare", spec),))):
        pass
    return time.perf_counter() - started


def _service_seconds(http: httpx.Client, host: str) -> float:
    started = time.perf_counter()
    run = http.post("/api/runs", json=RUN).json()
    with connect(f"ws://{host}/ws/experiments/{run['experiment_id']}") as ws:
        _until(ws, lambda m: m["type"] == "summary")
    return time.perf_counter() - started


def _first_epoch_seconds(http: httpx.Client, host: str) -> float:
    small = {"data": {"n_train": 100}, "model": {"hidden": [16]}, "train": {"epochs": 3}}
    started = time.perf_counter()
    run = http.post("/api/runs", json=small).json()
    with connect(f"ws://{host}/ws/experiments/{run['experiment_id']}") as ws:
        got = _until(ws, lambda m: m["type"] == "epoch")
        first = got[-1][0] - started
        _until(ws, lambda m: m["type"] == "summary")
    return first


def _stream_latencies(http: httpx.Client, host: str, runtime: Runtime) -> list[float]:
    ingested: dict[tuple[int, int], float] = {}
    pump = runtime.pump
    receive = pump.event

    def timed(group_id: str, event: Event) -> None:
        # The executor hands each event to its sink, the pump, by this name: timed here, on
        # this server's pump alone, with no hook in the service.
        if isinstance(event, EpochEvent):
            ingested[(event.run_id, event.epoch)] = time.perf_counter()
        receive(group_id, event)

    pump.event = timed  # type: ignore[method-assign]
    body = {
        "base": {
            "data": {"n_train": 200},
            "model": {"hidden": [32]},
            "train": {"epochs": 150, "snapshot_every": 10},
        },
        "variants": [
            {"name": f"l2={i}", "override": {"regularization": {"l2": i / 100}}} for i in range(4)
        ],
    }
    experiment = http.post("/api/experiments", json=body).json()
    ids = {r["id"] for r in experiment["runs"]}
    summaries: set[int] = set()

    def done(message: dict[str, Any]) -> bool:
        if message["type"] == "summary":
            summaries.add(message["run_id"])
        return summaries == ids

    with connect(f"ws://{host}/ws/experiments/{experiment['id']}") as ws:
        got = _until(ws, done)
    del pump.event  # the class's own method again
    return [
        (t - ingested[(m["run_id"], m["epoch"])]) * 1000
        for t, m in got
        if m["type"] == "epoch" and (m["run_id"], m["epoch"]) in ingested
    ]


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> dict[str, float]:
    torch.set_num_threads(1)  # as a worker runs: the comparison is one core against one core
    with tempfile.TemporaryDirectory() as tmp:
        # Sharing off: the five repeats of one run would be one computation served four times.
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", workers=1, share_runs=False
        )
        server, thread, app, host = _serve(settings)
        runtime: Runtime = app.state.runtime
        try:
            with httpx.Client(base_url=f"http://{host}", timeout=120) as http:
                while http.get("/api/health").json()["workers_ready"] < 1:
                    time.sleep(0.1)
                _bare_seconds()  # warm this process's caches as the worker warmed its own
                bare, service = [], []
                for _ in range(5):  # interleaved, best of 5: the machine is shared
                    bare.append(_bare_seconds())
                    service.append(_service_seconds(http, host))
                firsts = [_first_epoch_seconds(http, host) for _ in range(7)]
                latencies = _stream_latencies(http, host, runtime)
        finally:
            server.should_exit = True
            thread.join(timeout=60)
    ratio = min(bare) / min(service)
    first = statistics.median(firsts)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"one run, bare train_group in-process: {min(bare):.2f} s (best of 5)")
    print(f"one run through the whole service:    {min(service):.2f} s (best of 5)")
    print(f"service / bare throughput:            {ratio:.3f}  ({_verdict(ratio >= 0.95)} ≥ 0.95)")
    print(
        f"queued → first epoch event (warm):    {first * 1000:.0f} ms median of 7 "
        f"(max {max(firsts) * 1000:.0f} ms)  ({_verdict(first < 0.5)} < 500 ms)"
    )
    print(
        f"epoch event → websocket client:       p50 {p50:.1f} ms, p99 {p99:.1f} ms over "
        f"{len(latencies)} events  ({_verdict(p99 < 100)} p99 < 100 ms)"
    )
    return {"service_ratio": ratio, "first_epoch_s": first, "ws_p50_ms": p50, "ws_p99_ms": p99}


if __name__ == "__main__":
    main()
