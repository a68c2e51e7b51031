"""`reglab serve` and `reglab submit`, run as a user runs them: real processes, a real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.conftest import LiveServer
from tests.support import free_port, wait_for

pytestmark = pytest.mark.slow
REGLAB = [str(Path(sys.executable).parent / "reglab")]


def test_submit_follows_an_experiment_live_and_prints_its_table(
    server: LiveServer, tmp_path: Path
) -> None:
    spec = {
        "name": "from the cli",
        "base": {"train": {"epochs": 4}, "data": {"n_train": 50}, "model": {"hidden": [8]}},
        "variants": [
            {"name": "plain"},
            {"name": "l2", "override": {"regularization": {"l2": 0.1}}},
        ],
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))

    done = subprocess.run(
        [
            *REGLAB,
            "submit",
            str(path),
            "--server",
            server.url,
            "--user",
            "cli user",
            "--every",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("experiment ") and "2 runs queued" in lines[0]
    assert sum("epoch    4" in line for line in lines) == 2
    assert any(line.split()[:2] == ["l2", "completed"] for line in lines[-2:])
    owner = server.http.get("/api/experiments?owner=cli user").json()
    assert owner["total"] == 1
    # The name's first use claimed it; its token is kept for the next submission and proves it.
    kept = json.loads((tmp_path / "reglab" / "tokens.json").read_text())[server.url]["cli user"]
    whoami = server.http.get("/api/identity", headers={"X-Reglab-Token": kept}).json()
    assert whoami == {"name": "cli user", "verified": True}


def test_submit_of_an_invalid_spec_names_the_field_and_fails(
    server: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"base": {"optimizer": {"lr": 99}}}))
    done = subprocess.run(
        [*REGLAB, "submit", str(path), "--server", server.url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert done.returncode == 2
    assert "base.optimizer.lr" in done.stderr


def test_serve_answers_health_and_page_then_stops_on_interrupt(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "REGLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'r.db'}",
        "REGLAB_WORKERS": "1",
    }
    process = subprocess.Popen(
        [*REGLAB, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/api/health").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, 60, "reglab serve to answer")
        assert httpx.get(f"{url}/static/plotly.min.js").status_code == 200
        assert (tmp_path / "db" / "r.db").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
