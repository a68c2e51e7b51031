"""A worker's hard memory cap: a group its estimate got wrong fails alone, with a reason."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from reglab.events import Event, StatusEvent
from reglab.jobs.local import LocalExecutor
from reglab.jobs.pidfile import listed_workers
from reglab.spec import RunSpec
from reglab.training.plan import Group, Member

from tests.support import wait_for

pytestmark = pytest.mark.slow


class Sink:
    """Keeps each group's events and how it ended; lets the test wait for the end."""

    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}
        self.done: dict[str, str | None] = {}
        self._changed = threading.Condition()

    def event(self, group_id: str, event: Event) -> None:
        with self._changed:
            self.events.setdefault(group_id, []).append(event)

    def group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        with self._changed:
            self.done[group_id] = error
            self._changed.notify_all()

    def wait(self, group_id: str, timeout: float = 60) -> str | None:
        with self._changed:
            assert self._changed.wait_for(lambda: group_id in self.done, timeout)
            return self.done[group_id]


def group(run_ids: list[int], **fields: object) -> Group:
    spec = RunSpec.model_validate(fields)
    return Group(tuple(Member(run_id, str(run_id), spec) for run_id in run_ids))


def test_a_killed_starting_worker_is_replaced_and_a_group_past_the_memory_cap_fails_alone(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "reglab.db.workers"
    executor = LocalExecutor(
        workers=1, cancel_grace_s=0.2, memory_cap_bytes=50_000_000, pidfile=pidfile
    )
    sink = Sink()
    executor.start(sink)
    try:
        # Given work and cancelled before it has even imported torch: it cannot hear the cancel,
        # is killed, and the pool starts another (once it killed a worker starting up for good).
        executor.submit("early", group([1], model={"hidden": [8]}, train={"epochs": 2}))
        executor.cancel([1])
        assert sink.wait("early") == "the worker did not stop within 0.2 s and was replaced"
        wait_for(lambda: executor.ready_workers() == 1, 90, "the pool to have its worker again")
        [pid] = listed_workers(pidfile)

        # About 1.2 GB measured (bench/cost.py): far past 50 MB and the cap's margin.
        wide = {"hidden": [512] * 4, "activation": "maxout", "maxout_pieces": 8}
        train = {"epochs": 1, "batch_size": 4096}
        executor.submit("big", group([2, 3], data={"n_train": 4096}, model=wide, train=train))
        error = sink.wait("big")
        assert error is not None and "more memory than the worker's memory cap" in error
        assert "smaller batch_size" in error

        executor.submit("small", group([4], model={"hidden": [8]}, train={"epochs": 2}))
        assert sink.wait("small") is None
        statuses = [e.status for e in sink.events["small"] if isinstance(e, StatusEvent)]
        assert statuses[-1] == "completed"
        assert listed_workers(pidfile) == [pid], "the same worker, not a replacement"
    finally:
        executor.shutdown()
