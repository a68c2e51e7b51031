"""Helpers the test suites and benches share: free ports, polling, and the browser to drive."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from reglab.events import FINAL_STATUSES
from reglab.store.records import RunRecord
from websockets.sync.client import connect

# Debian's chromium, started the way this machine allows (no sandbox as root, no network chatter).
CHROMIUM = os.environ.get("REGLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FINAL = FINAL_STATUSES


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def end_process(
    proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace_s: float = 30.0
) -> int:
    """Stop a process a test started and always reap it, whatever went wrong before.

    A Popen that is never waited for is reported (ResourceWarning, an error under this suite's
    filterwarnings) when it is collected, which may be in any later test.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


class Api:
    """A running reglab server as tests drive it: HTTP under one display name, and its socket.

    Names are bound to secrets: `identity(name)` claims a name once and gives the header that
    proves it. A write request that names nobody is sent as the default user, with its token.
    """

    def __init__(self, url: str, user: str = "tester") -> None:
        self.url = url
        self.ws_url = url.replace("http://", "ws://", 1)
        self.user = user
        self.tokens: dict[str, str] = {}
        # No cookie jar: a test says who it is per request, as an API client does.
        refuse_all = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        self.http = httpx.Client(
            base_url=url,
            timeout=30,
            cookies=http.cookiejar.CookieJar(policy=refuse_all),
            event_hooks={"request": [self._as_default_user]},
        )
        self.process: subprocess.Popen[bytes] | None = None  # a `reglab serve` subprocess

    def identity(self, name: str) -> dict[str, str]:
        """Headers that prove `name` (claimed on first use, as a browser or `reglab submit` do)."""
        if name not in self.tokens:
            claimed = httpx.post(f"{self.url}/api/identity", json={"name": name}, timeout=30)
            assert claimed.status_code == 201, claimed.text
            self.tokens[name] = claimed.json()["token"]
        return {"X-Reglab-Token": self.tokens[name]}

    def _as_default_user(self, request: httpx.Request) -> None:
        if request.method in ("GET", "HEAD") or request.url.path == "/api/identity":
            return
        if "X-Reglab-User" not in request.headers and "X-Reglab-Token" not in request.headers:
            request.headers.update(self.identity(self.user))

    def submit(self, body: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        headers = self.identity(user) if user else {}
        response = self.http.post("/api/experiments", json=body, headers=headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def experiment(self, experiment_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"/api/experiments/{experiment_id}").json()
        return found

    def run_status(self, run_id: int) -> str:
        status: str = self.http.get(f"/api/runs/{run_id}").json()["status"]
        return status

    def wait_finished(self, experiment_id: int, timeout: float = 120) -> dict[str, Any]:
        """The experiment once every one of its runs has a final status."""

        def done() -> dict[str, Any] | None:
            exp = self.experiment(experiment_id)
            runs = exp["runs"]
            return exp if runs and all(r["status"] in FINAL for r in runs) else None

        found: dict[str, Any] = wait_for(done, timeout, f"experiment {experiment_id} to finish")
        return found

    def read_stream(
        self,
        experiment_id: int,
        until: Callable[[list[dict[str, Any]]], bool],
        *,
        since: int = 0,
        timeout: float = 90,
    ) -> list[dict[str, Any]]:
        """Messages of the experiment's websocket after `since`, until `until(messages)` holds."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        with connect(f"{self.ws_url}/ws/experiments/{experiment_id}?since={since}") as ws:
            while not until(messages):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"the stream stalled after {len(messages)} messages"
                messages.append(json.loads(ws.recv(timeout=remaining)))
        return messages


@dataclass
class Uvicorn:
    """An app served by uvicorn in a thread of this process, on a free loopback port."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the server did not stop"


def start_uvicorn(app: Any) -> Uvicorn:
    port = free_port()
    # websockets-sansio: the implementation `reglab serve` uses, without deprecation warnings.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 60, "uvicorn to start")
    return Uvicorn(server, thread, f"http://127.0.0.1:{port}")


@contextlib.contextmanager
def reglab_serve(tmp: Path, **env: str) -> Iterator[Api]:
    """`reglab serve` (what `make run` runs) as a subprocess on a free port, its workers warm.

    The SQLite file and the server's log live in `tmp`; `env` adds REGLAB_ settings.
    """
    port = free_port()
    full_env = {
        **os.environ,
        "REGLAB_DATABASE_URL": f"sqlite:///{tmp / 'reglab.db'}",
        "REGLAB_WORKERS": "2",
        # The tests resubmit the same lessons and watch them train: no serving from earlier runs
        # unless a test asks for it (tests/api/test_sharing.py does).
        "REGLAB_SHARE_RUNS": "false",
        **env,
    }
    cmd = [str(Path(sys.executable).with_name("reglab")), "serve"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        api = Api(f"http://127.0.0.1:{port}")
        api.process = proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {log_path.read_text()[-3000:]}")
            try:
                health = api.http.get("/api/health").json()
            except httpx.HTTPError:
                return False
            return bool(health["workers"] > 0 and health["workers_ready"] == health["workers"])

        try:
            wait_for(ready, 90, "the server and its warm workers")
            yield api
        finally:
            api.http.close()
            end_process(proc)


def a_run(**fields: Any) -> RunRecord:
    """A run as the store returns it, for a test that isolates a reader of runs: one finished
    run named "r" with nothing shared and no summary, but for the `fields` given."""
    when = fields.pop("at", datetime(2026, 1, 1, tzinfo=UTC))
    defaults: dict[str, Any] = {
        "id": 1, "experiment_id": 1, "position": 0, "name": "r", "variant": "r", "replicate": 0,
        "fingerprint": None, "shared_from": None, "owner": "ada", "spec": {}, "epochs": 5,
        "status": "completed", "message": None, "created_at": when, "started_at": when,
        "finished_at": when, "summary": None,
    }  # fmt: skip
    return RunRecord(**(defaults | fields))
