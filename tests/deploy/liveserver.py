"""A reglab server in this process (uvicorn on a free port) and a reader of its websocket."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reglab.api.app import create_app
from reglab.config import Settings

from tests.support import Api, start_uvicorn

EPOCH_COLUMNS = ("epoch", "train_loss", "val_loss", "train_acc", "val_acc", "weight_l2")


class Live(Api):
    """A server of this process whose SQLite file the test reads directly too."""

    def __init__(self, url: str, db: Path) -> None:
        super().__init__(url, user="t")
        self.db = db

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
    served = start_uvicorn(create_app(Settings(database_url=f"sqlite:///{db}", **settings)))
    live = Live(served.url, db)
    try:
        yield live
    finally:
        live.http.close()
        served.stop()


def summarized(run_ids: set[int]) -> Callable[[list[dict[str, Any]]], bool]:
    """Every run has sent its summary, the engine's last word on a run."""
    return lambda ms: run_ids <= {m["run_id"] for m in ms if m["type"] == "summary"}


def streamed_epochs(messages: list[dict[str, Any]], run_id: int) -> list[tuple[Any, ...]]:
    return [
        tuple(m[c] for c in EPOCH_COLUMNS)
        for m in messages
        if m["type"] == "epoch" and m["run_id"] == run_id
    ]
