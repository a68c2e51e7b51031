"""A small client of a running reglab server: submit an experiment, follow it live, sum it up.

`reglab submit` uses it. Output goes through the `say` callable the caller passes (the CLI gives
typer.echo), so this module never prints by itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

Say = Callable[[str], None]


# Statuses after which no summary follows (the engine never ran the member, or died with it).
class SubmitError(RuntimeError):
    """The server refused the submission; the message is its answer."""


def submit(
    server: str, body: dict[str, Any], *, user: str = "anonymous", timeout: float = 30
) -> dict[str, Any]:
    """POST the experiment; its id and runs, or SubmitError with the server's sentence."""
    headers = {"X-Reglab-User": quote(user)}
    with httpx.Client(base_url=server, timeout=timeout) as http:
        response = http.post("/api/experiments", json=body, headers=headers)
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
            with connect(f"{ws_base}/ws/experiments/{experiment['id']}?since={cursor}") as ws:
                while len(final) < len(names):
                    message = json.loads(ws.recv())
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
    elif kind == "status" and message["status"] not in ("queued",):
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
