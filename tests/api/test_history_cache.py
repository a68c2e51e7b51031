"""A finished experiment's compact history is built once and kept while its cursor holds."""

from __future__ import annotations

import base64
import gzip
import json
import struct
from datetime import UTC, datetime
from typing import Any

from reglab.api.history import CompactCache, compact_gzip
from reglab.store.records import ExperimentRecord

from tests.support import a_run

CREATED = datetime(2026, 12, 1, tzinfo=UTC)


class CountingStore:
    """The two reads compact_gzip makes, counting the expensive one."""

    def __init__(self) -> None:
        self.cursor = 7
        self.builds = 0

    def history_cursor(self, experiment_id: int) -> int:
        return self.cursor

    def history_columns(self, experiment_id: int) -> tuple[int, dict[int, dict[str, list[Any]]]]:
        self.builds += 1
        return self.cursor, {1: {"epoch": [1, 2], "train_loss": [0.5, 0.25], "grad_norms": []}}


def experiment(status: str, *, id: int = 3, created: datetime = CREATED) -> ExperimentRecord:
    run = a_run(experiment_id=id, name="none", variant="none", epochs=2, status=status, at=created)
    return ExperimentRecord(
        id=id, name="e", description="", lesson=None, owner="ada", spec={}, created_at=created,
        runs=[run],
    )  # fmt: skip


def opened(store: CountingStore, cache: CompactCache, record: ExperimentRecord) -> dict[str, Any]:
    body = compact_gzip(experiment=record, store=store, cache=cache)
    answer: dict[str, Any] = json.loads(gzip.decompress(body))
    return answer


def test_a_finished_experiment_opened_again_is_not_built_again() -> None:
    store, cache = CountingStore(), CompactCache()
    first = opened(store, cache, experiment("completed"))
    assert opened(store, cache, experiment("completed")) == first
    assert store.builds == 1
    assert base64.b64decode(first["runs"]["1"]["train_loss"]) == struct.pack("<2f", 0.5, 0.25)


def test_a_running_experiment_is_built_at_every_open() -> None:
    store, cache = CountingStore(), CompactCache()
    opened(store, cache, experiment("running"))
    opened(store, cache, experiment("running"))
    assert store.builds == 2


def test_a_moved_cursor_or_an_id_used_again_is_built_anew() -> None:
    store, cache = CountingStore(), CompactCache()
    opened(store, cache, experiment("completed"))
    store.cursor = 9  # a live run whose numbers a run of it shares logged more
    assert opened(store, cache, experiment("completed"))["cursor"] == 9
    later = datetime(2026, 12, 2, tzinfo=UTC)  # deleted, and its id given to a new one
    opened(store, cache, experiment("completed", created=later))
    assert store.builds == 3


def test_the_cache_keeps_the_most_recently_opened() -> None:
    store, cache = CountingStore(), CompactCache(size=2)
    for id in (1, 2, 1, 3):  # 2 is the least recently opened when 3 comes
        opened(store, cache, experiment("completed", id=id))
    opened(store, cache, experiment("completed", id=1))
    assert store.builds == 3
    opened(store, cache, experiment("completed", id=2))
    assert store.builds == 4
