"""The compose `cluster` profile, played outside containers: head, worker and server as processes.

Each runs the command docker-compose.yml gives its service, through the image's entrypoint,
with only ports and Ray's temp dir substituted so that three nodes can share this machine. The
server then joins the cluster as a CPU-less node, trains a comparison on the worker's CPUs, and
stops in order on SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from deployfiles import (
    ENTRYPOINT_SCRIPT,
    command_argv,
    dockerfile_stages,
    image_env,
    interpolate,
    last,
    service,
)

from tests.support import end_process, free_port, wait_for

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def _substituted(argv: list[str], **flags: str) -> list[str]:
    """argv as compose runs it (`${VAR:-default}` filled in), with `--flag=value` replaced."""
    out = []
    for arg in map(interpolate, argv):
        name = arg[2:].split("=", 1)[0].replace("-", "_") if arg.startswith("--") else ""
        out.append(f"--{name.replace('_', '-')}={flags[name]}" if name in flags else arg)
    return out


def _processes_under(path: str) -> list[int]:
    """Ray processes this test started: their command lines name its private temp dir."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if path.encode() in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


class Cluster:
    """The head and one worker of the profile, as `--block`ing processes of this test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = root / "ray"  # short: Ray's unix sockets live under it
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[IO[bytes]] = []

    def start(self, name: str, argv: list[str]) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.logs.append(log)
        self.procs.append(
            subprocess.Popen(
                ["sh", str(ENTRYPOINT_SCRIPT), *argv],
                cwd=self.root,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    def env(self, **extra: str) -> dict[str, str]:
        """The image's environment with a fresh home, as the container user has (no Ray token)."""
        return image_env(HOME=str(self.root / "home"), **extra)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def tails(self, lines: int = 15) -> str:
        """The end of every log of this cluster, for a failure message."""
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.root.glob("*.log"))
        )

    def stop(self) -> None:
        # `ray start --block` takes its node down on SIGTERM; the server's CPU-less node has no
        # such process, so every Ray process under this cluster's temp dir gets the signal too.
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for pid in _processes_under(str(self.temp)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 3  # the test is over: no need to wait for grace
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        while _processes_under(str(self.temp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        stragglers = [p.pid for p in self.procs if p.poll() is None]
        for pid in _processes_under(str(self.temp)) + stragglers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in self.procs:
            proc.wait(timeout=10)
        wait_for(lambda: not _processes_under(str(self.temp)), 10, "Ray's processes to end")
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pytest.importorskip("ray")  # the `ray` command comes with the reglab[ray] extra
    root = Path(tempfile.mkdtemp(prefix="rl", dir="/tmp"))
    running = Cluster(root)
    head = _substituted(command_argv("ray-head"), port=str(running.port))
    running.start("head", [*head, f"--temp-dir={running.temp}"])
    worker = _substituted(command_argv("ray-worker"), address=running.address)
    try:
        # As compose orders it: the worker and the server start once the head is healthy. The
        # head has no CPUs, so a comparison that completes has trained on the worker's.
        wait_for(lambda: "Ray runtime started" in running.log("head"), 90, "the head to start")
        check = [
            a.replace(":6379", f":{running.port}")
            for a in service("ray-head")["healthcheck"]["test"][1:]
        ]
        healthy = subprocess.run(
            check, env=running.env(), capture_output=True, text=True, timeout=60
        )
        assert healthy.returncode == 0, f"the head's health check fails: {healthy.stderr}"
        running.start("worker", worker)
        # Nodes sharing one host's ports must come up one after another (in compose each has
        # its own network namespace), so the server joins once the worker has.
        wait_for(lambda: "Ray runtime started" in running.log("worker"), 90, "the worker")
        yield running
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_server_trains_a_comparison_on_the_cluster_and_stops_in_order(cluster: Cluster) -> None:
    port = free_port()
    command = [*last(dockerfile_stages()[-1], "CMD").exec_form()[:-1], str(port)]
    log_path = cluster.root / "reglab.log"
    (cluster.root / "data").mkdir()
    env = cluster.env(REGLAB_EXECUTOR="ray", REGLAB_RAY_ADDRESS=cluster.address)
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            ["sh", str(ENTRYPOINT_SCRIPT), *command],
            cwd=cluster.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

            def up() -> bool:
                assert server.poll() is None, log_path.read_text()
                try:
                    return http.get("/api/health").status_code == 200
                except httpx.TransportError:
                    return False

            try:
                wait_for(up, 120, "the server to join the cluster and serve")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{cluster.tails()}") from None
            assert http.get("/api/health").json()["executor"] == "ray"
            created = http.post(
                "/api/experiments",
                json={
                    "name": "on the cluster",
                    "base": {"data": {"n_train": 60}, "train": {"epochs": 4}},
                    "variants": [
                        {"name": "plain", "override": {}},
                        {"name": "l2", "override": {"regularization": {"l2": 0.01}}},
                    ],
                },
                headers={"X-Reglab-User": "teacher"},
            ).json()
            experiment = f"/api/experiments/{created['id']}"

            def no_run_is(status: str) -> bool:
                return all(r["status"] != status for r in http.get(experiment).json()["runs"])

            try:
                # Every group waits for a CPU of the worker, which the server's two warm-up tasks
                # hold first, and starts in a cold Ray worker process (torch imported, the first
                # optimizer built): ~5 s on a quiet box. Beside two CPU hogs and other test runs
                # (load 14 on 2 cores) a warm-up took 53 s and another over 90 s, and the second
                # group started 57 s after it was submitted, then trained its 4 epochs. Slow, not
                # stuck: so the bound is on each step, and generous for a loaded machine.
                wait_for(lambda: no_run_is("queued"), 240, "every group's task to start")
                done = wait_for(
                    lambda: (e := http.get(experiment).json())["status"] == "finished" and e,
                    120,
                    "the comparison to finish",
                )
            except AssertionError as exc:
                statuses = [(r["name"], r["status"]) for r in http.get(experiment).json()["runs"]]
                raise AssertionError(f"{exc}; runs: {statuses}\n{cluster.tails()}") from None
            assert [r["status"] for r in done["runs"]] == ["completed", "completed"]
            metrics = http.get(f"/api/runs/{done['runs'][0]['id']}/metrics").json()
            assert [row["epoch"] for row in metrics] == [1, 2, 3, 4]
            http.close()

            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=30)
        finally:
            end_process(server)
    text = log_path.read_text()
    assert code in {0, -signal.SIGTERM}
    assert "Application shutdown complete" in text
    assert "Traceback" not in text, "SIGTERM must be uvicorn's graceful stop, not Ray's exit"
