"""A small client of a running reglab server: submit an experiment, follow it live, sum it up.

`reglab submit` uses it. Output goes through the `say` callable the caller passes (the CLI gives
typer.echo), so this module never prints by itself.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from reglab.events import RunStatus

Say = Callable[[str], None]


# Statuses after which no summary follows (the engine never ran the member, or died with it).
class SubmitError(RuntimeError):
    """The server refused the submission; the message is its answer."""


def token_file() -> Path:
    """Where `reglab submit` keeps the secrets of the names it chose, per server."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "reglab" / "tokens.json"


def _tokens(path: Path) -> dict[str, dict[str, str]]:
    try:
        found: dict[str, dict[str, str]] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _keep(path: Path, server: str, user: str, token: str) -> None:
    tokens = _tokens(path)
    tokens.setdefault(server, {})[user] = token
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=1, ensure_ascii=False))


def identity(
    http: httpx.Client, server: str, user: str, *, token: str | None, path: Path
) -> dict[str, str]:
    """Headers proving `user`: the given or kept token, else a newly claimed one (then kept)."""
    headers = {"X-Reglab-User": quote(user)}
    if user == "anonymous":
        return headers
    token = token or _tokens(path).get(server, {}).get(user)
    if token is None:
        claimed = http.post("/api/identity", json={"name": user}, headers=headers)
        if claimed.status_code != 201:
            raise SubmitError(_explain(claimed))
        token = str(claimed.json()["token"])
        _keep(path, server, user, token)
    return {**headers, "X-Reglab-Token": token}


def submit(
    server: str,
    body: dict[str, Any],
    *,
    user: str = "anonymous",
    token: str | None = None,
    tokens: Path | None = None,
    timeout: float = 30,
    to: str = "/api/experiments",
) -> dict[str, Any]:
    """POST the experiment as `user`; its id and runs, or SubmitError with the server's sentence.
    `to`: where, e.g. a challenge's entries (entries_path), whose answer is the entry's experiment.

    The first submission under a name claims it and keeps its token in `tokens` (by default
    token_file()); later ones send it, so that only this client may cancel what it submitted.
    """
    path = tokens if tokens is not None else token_file()
    with httpx.Client(base_url=server, timeout=timeout) as http:
        headers = identity(http, server, user, token=token, path=path)
        response = http.post(to, json=body, headers=headers)
    if "X-Reglab-Token" in response.headers:  # a reset name, bound again by this request
        _keep(path, server, user, response.headers["X-Reglab-Token"])
    if response.status_code != 201:
        raise SubmitError(_explain(response))
    created: dict[str, Any] = response.json()
    return created


def _explain(response: httpx.Response) -> str:
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError):
        return f"HTTP {response.status_code}: {response.text[:300]}"
    if isinstance(detail, list):
        return "; ".join(f"{d.get('field') or 'body'}: {d.get('msg')}" for d in detail)
    return f"HTTP {response.status_code}: {detail}"


def follow(
    server: str, experiment: dict[str, Any], say: Say, *, every: int = 0, retries: int = 20
) -> dict[int, dict[str, Any]]:
    """Print progress until every run has its last word; returns each run's summary or status.

    Reconnects with the last cursor when the connection drops, so nothing is printed twice.
    """
    ws_base = server.replace("http://", "ws://").replace("https://", "wss://").rstrip("/")
    names = {r["id"]: r["name"] for r in experiment["runs"]}
    final: dict[int, dict[str, Any]] = {}
    cursor = 0
    for _attempt in range(retries):
        try:
            # batch=1: each message is a list of events (all those waiting when it was sent).
            url = f"{ws_base}/ws/experiments/{experiment['id']}?since={cursor}&batch=1"
            with connect(url) as ws:
                while len(final) < len(names):
                    for message in json.loads(ws.recv()):
                        if message["cursor"] <= cursor:
                            continue
                        cursor = message["cursor"]
                        _show(message, names, final, say, every)
            return final
        except (ConnectionClosed, OSError) as exc:
            say(f"(connection lost: {exc}; resuming after cursor {cursor})")
            time.sleep(0.5)
    raise SubmitError(f"lost the connection to {server} {retries} times; giving up.")


def _show(
    message: dict[str, Any],
    names: dict[int, str],
    final: dict[int, dict[str, Any]],
    say: Say,
    every: int,
) -> None:
    run_id = message["run_id"]
    name = names.get(run_id, str(run_id))
    kind = message["type"]
    if kind == "epoch" and (every <= 0 or message["epoch"] % every == 0):
        acc = message.get("val_acc")
        acc_text = "" if acc is None else f"  val acc {_num(acc)}"
        say(
            f"{name:>16}  epoch {message['epoch']:>4}  train {_num(message['train_loss'])}  "
            f"val {_num(message['val_loss'])}{acc_text}"
        )
    elif kind == "status" and message["status"] != RunStatus.QUEUED:
        why = f" — {message['message']}" if message.get("message") else ""
        say(f"{name:>16}  {message['status']}{why}")
        if message.get("last"):  # the service ended it: no summary follows
            final[run_id] = {"status": message["status"]}
    elif kind == "summary":
        final[run_id] = message


def table(experiment: dict[str, Any], final: dict[int, dict[str, Any]]) -> list[str]:
    """The closing table: one line per run."""
    lines = [f"{'run':>16}  {'status':>13}  {'best ep':>7}  {'best val':>9}  {'gap':>8}"]
    for run in experiment["runs"]:
        s = final.get(run["id"], {})
        lines.append(
            f"{run['name']:>16}  {s.get('status', '?'):>13}  {s.get('best_epoch', ''):>7}  "
            f"{_num(s.get('best_val_loss')):>9}  {_num(s.get('gap')):>8}"
        )
    return lines


def _num(value: Any) -> str:
    if isinstance(value, int | float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def entries_path(challenge: int) -> str:
    return f"/api/challenges/{challenge}/entries"


def entry_body(name: str, settings: list[str]) -> dict[str, Any]:
    """A challenge entry from PATH=VALUE settings, e.g. regularization.l2=0.01 (the value read
    as JSON when it is JSON, else as text: the server's 422 says what a field takes)."""
    override: dict[str, Any] = {}
    for setting in settings:
        path, sep, text = setting.partition("=")
        if not sep or not path:
            raise SubmitError(
                f"--set takes PATH=VALUE, e.g. regularization.l2=0.01; not {setting!r}."
            )
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        *sections, key = path.split(".")
        node = override
        for section in sections:
            node = node.setdefault(section, {})
        node[key] = value
    return {"name": name, "override": override}


def board_lines(server: str, challenge: int, experiment: int, timeout: float = 30) -> list[str]:
    """The entry's row of the challenge's board, as it stands now."""
    with httpx.Client(base_url=server, timeout=timeout) as http:
        response = http.get(f"/api/challenges/{challenge}/leaderboard")
    if response.status_code != 200:
        raise SubmitError(_explain(response))
    board = response.json()
    for row in board["rows"]:
        if row.get("experiment_id") == experiment and row["kind"] == "entry":
            public = row["public"]
            score = (
                "not scored"
                if public is None
                else (f"{_num(public['mean'])} ± {_num(public['sd'])} over {public['n']} seeds")
            )
            tie = " (tied with the leader)" if row["tied"] else ""
            beats = ", ".join(row.get("beats") or []) or "no baseline"
            return [
                f"public {board['metric']}: {score}",
                f"rank {row['rank']}{tie}; beats {beats}; entries left: {row['entries_left']}",
            ]
    return ["the entry is not on the board yet"]
