"""Before the reveal no response of any kind carries a number of the private test split: every
REST body, export, report and websocket frame (replayed and live) of a whole challenge is kept
and searched for them; after the reveal the same readers show them (the search can find them)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from api.challenge_support import ADMIN, challenge_body, enter, settled
from api.conftest import LiveServer, settings_for, start_server
from tests.support import wait_for

ENTRIES = {
    ("ann", "l2"): {"regularization": {"l2": 0.01}},
    ("bob", "dropout"): {"regularization": {"dropout": 0.5}},
    ("cy", "as is"): {},  # the simple baseline's very computation: served, or followed live
}


@pytest.fixture(scope="module")
def sharing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Sharing on: an entry identical to a baseline gets its summary copied (reglab/sharing.py),
    a path the private numbers must not leak through either."""
    tmp: Path = tmp_path_factory.mktemp("integrity")
    live = start_server(settings_for(tmp, share_runs=True, admin_token="sesame"))
    live.wait_ready()
    yield live
    live.stop()


class Seen:
    """Every text the server sent during the test, as received."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.texts: list[str] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def keep(self, text: str) -> None:
        with self.lock:
            self.texts.append(text)

    def get(self, path: str, **headers: str) -> Any:
        answer = self.server.http.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        self.keep(answer.text)
        return answer.json() if "json" in answer.headers.get("content-type", "") else None

    def post(self, path: str, body: Any, headers: dict[str, str]) -> Any:
        answer = self.server.http.post(path, json=body, headers=headers)
        assert answer.status_code < 300, (path, answer.text)
        self.keep(answer.text)
        return answer.json()

    def listen(self, path: str, until: Callable[[list[str]], bool]) -> None:
        """Read a websocket in a thread, keeping every message until `until(messages)`; a
        stream that does not get there in 120 s fails the test (the join below)."""

        def read() -> None:
            mine: list[str] = []
            with connect(f"{self.server.ws_url}{path}") as ws:
                while not until(mine):
                    text = str(ws.recv(timeout=120))
                    mine.append(text)
                    self.keep(text)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=150)
            assert not thread.is_alive(), "a stream never saw its end"


def _messages(texts: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for text in texts:
        found = json.loads(text)
        out += found if isinstance(found, list) else [found]
    return out


def _runs_done(count: int) -> Callable[[list[str]], bool]:
    """A stream has every run's last word (a summary, or a final status none follows)."""

    def done(texts: list[str]) -> bool:
        ends = {
            m["run_id"]
            for m in _messages(texts)
            if m.get("type") == "summary" or (m.get("type") == "status" and m.get("last"))
        }
        return len(ends) >= count

    return done


def _board_done(texts: list[str]) -> bool:
    if not texts:
        return False
    rows = json.loads(texts[-1])["board"]["rows"]
    entries = [r for r in rows if r["kind"] == "entry"]
    return len(entries) == len(ENTRIES) and all(
        r["status"] == "finished" and r["public"] is not None for r in rows
    )


def _private_numbers(server: LiveServer, challenge: int) -> list[float]:
    path = server.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT r.test_loss, r.test_acc FROM run r JOIN experiment e "
            "ON e.id = r.experiment_id WHERE e.challenge_id = ?",
            (challenge,),
        ).fetchall()
    return [v for row in rows for v in row if v is not None]


def _leaks(texts: list[str], secrets: list[float]) -> list[str]:
    """The private numbers found in the texts, as JSON writes them; and any test_loss or
    test_acc key with a value, wherever a JSON text has one."""
    found = [repr(v) for v in secrets if any(repr(v) in t for t in texts)]
    for text in texts:
        try:
            body = json.loads(text)
        except ValueError:
            continue  # csv, html: searched as text above
        stack = [body]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("test_loss", "test_acc") and value is not None:
                        found.append(f"{key}={value}")
                    stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
    return found


def _cli_entry(server: LiveServer, challenge: int, home: Path) -> tuple[str, int]:
    """`reglab submit --challenge`, run as a student runs it: its whole output, and the entry."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "reglab"), "submit", "--challenge", str(challenge),
         "--name", "from the cli", "--set", "regularization.l2=0.02", "--server", server.url,
         "--user", "dee", "--every", "1"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "XDG_CONFIG_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("experiment ") and "2 runs queued" in first, done.stdout
    assert "public accuracy: " in done.stdout and "entries left: 1" in done.stdout
    return done.stdout + done.stderr, int(first.split()[1].rstrip(":"))


def _read_everything(seen: Seen, challenge: int, experiments: list[int]) -> None:
    """Every REST reader of the challenge and its experiments, runs, exports and report."""
    seen.get("/api/challenges")
    seen.get(f"/api/challenges/{challenge}")
    seen.get(f"/api/challenges/{challenge}/leaderboard")
    seen.get("/api/experiments?limit=200")
    seen.get("/api/runs?limit=500")
    # The teacher's own readers too: before the reveal the teacher sees no private number either.
    seen.get("/api/class", **ADMIN)
    seen.get("/api/class/export.csv", **ADMIN)
    for experiment in experiments:
        base = f"/api/experiments/{experiment}"
        found = seen.get(base)
        for tail in ("/metrics", "/metrics?compact=true", "/export.csv", "/export.json"):
            seen.get(base + tail)
        seen.get(base + "/report.html")
        seen.get(f"/api/runs?experiment_id={experiment}")
        for run in found["runs"]:
            for tail in ("", "/metrics", "/snapshots"):
                seen.get(f"/api/runs/{run['id']}{tail}")


def test_no_response_carries_a_private_number_before_the_reveal(
    sharing: LiveServer, tmp_path: Path
) -> None:
    seen = Seen(sharing)
    # 307 private points, a prime: an accuracy k/307 equals no accuracy on the 36 validation or
    # 20 public points (but 0 and 1), so a number found is the private one, not a coincidence.
    made = seen.post("/api/challenges", challenge_body(private_test=307), ADMIN)
    challenge = made["id"]
    seen.listen(f"/ws/challenges/{challenge}", _board_done)
    baselines = seen.get(f"/api/experiments?owner=reglab:baselines-{challenge}")["items"][0]
    seen.listen(f"/ws/experiments/{baselines['id']}?since=0", _runs_done(len(baselines["runs"])))
    experiments = [baselines["id"]]
    for (student, name), override in ENTRIES.items():
        answer = enter(sharing, challenge, student, name, override)
        assert answer.status_code == 201, answer.text
        seen.keep(answer.text)
        entry = answer.json()
        experiments.append(entry["id"])
        seen.listen(f"/ws/experiments/{entry['id']}?batch=1", _runs_done(len(entry["runs"])))
    settled(sharing, challenge, len(ENTRIES))
    seen.join()
    printed, from_cli = _cli_entry(sharing, challenge, tmp_path)
    seen.keep(printed)
    experiments.append(from_cli)
    _read_everything(seen, challenge, experiments)
    for experiment in experiments:  # the replay of a finished experiment, from the store
        seen.listen(f"/ws/experiments/{experiment}?since=0&batch=1", _runs_done(2))
    seen.listen(f"/ws/challenges/{challenge}", lambda texts: len(texts) == 1)
    seen.join()

    secrets = _private_numbers(sharing, challenge)
    # Test loss and accuracy of every run: 5 baselines and 4 entries (one from the CLI), R = 2.
    assert len(secrets) == 2 * 2 * (5 + len(ENTRIES) + 1)
    streamed = _messages([t for t in seen.texts if t.startswith(("{", "["))])
    assert any(m.get("type") == "summary" for m in streamed if isinstance(m, dict))
    assert _leaks(seen.texts, secrets) == []

    seen.post(f"/api/challenges/{challenge}/reveal", None, ADMIN)
    after = Seen(sharing)
    after.get(f"/api/challenges/{challenge}/leaderboard")
    after.get(f"/api/experiments/{experiments[1]}")
    after.get("/api/class/export.csv", **ADMIN)
    after.listen(f"/ws/experiments/{experiments[1]}?since=0&batch=1", _runs_done(2))
    after.join()
    revealed = _leaks(after.texts, secrets)
    assert revealed, "after the reveal the same readers show the private numbers"
    board = wait_for(lambda: after.get(f"/api/challenges/{challenge}/leaderboard"), 10, "the board")
    assert all(r["private"] is not None for r in board["rows"] if r["kind"] == "entry")
