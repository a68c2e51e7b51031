"""Fixtures of the deployment tests: one local Ray runtime per module, and a sink that records."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from reglab.events import EpochEvent, Event, StatusEvent


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[None]:
    """A real Ray on this machine; starting one takes seconds, so a module shares it."""
    ray = pytest.importorskip("ray")
    # "local": a runtime of its own, even when a cluster runs on this machine (another test's).
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@dataclass
class Finished:
    events: list[Event]
    error: str | None
    cancelled: bool = False

    def epochs(self, run_id: int) -> list[EpochEvent]:
        return [e for e in self.events if isinstance(e, EpochEvent) and e.run_id == run_id]

    def statuses(self, run_id: int) -> list[str]:
        return [e.status for e in self.events if isinstance(e, StatusEvent) and e.run_id == run_id]


@dataclass
class RecordingSink:
    """An EventSink that keeps what an executor says, per group, and lets a test wait for it."""

    events: dict[str, list[Event]] = field(default_factory=dict)
    done: dict[str, str | None] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    after_done: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def event(self, group_id: str, event: Event) -> None:
        with self._changed:
            if group_id in self.done:
                self.after_done.append(group_id)
            self.events.setdefault(group_id, []).append(event)
            self._changed.notify_all()

    def group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        with self._changed:
            assert group_id not in self.done, f"group_done twice for {group_id}"
            self.done[group_id] = error
            if cancelled:
                self.cancelled.add(group_id)
            self._changed.notify_all()

    def wait_until(
        self, group_id: str, what: Callable[[list[Event]], bool], timeout: float = 60
    ) -> None:
        """Wait until the group's events so far satisfy `what` (or the group is over)."""

        def reached() -> bool:
            return what(self.events.get(group_id, [])) or group_id in self.done

        with self._changed:
            assert self._changed.wait_for(reached, timeout), f"group {group_id}: waited in vain"

    def wait_for_epoch(self, group_id: str, run_id: int, epoch: int, timeout: float = 60) -> None:
        self.wait_until(
            group_id,
            lambda events: any(
                isinstance(e, EpochEvent) and e.run_id == run_id and e.epoch >= epoch
                for e in events
            ),
            timeout,
        )

    def wait_done(self, group_id: str, timeout: float = 60) -> Finished:
        with self._changed:
            assert self._changed.wait_for(lambda: group_id in self.done, timeout), (
                f"group {group_id} did not finish within {timeout} s"
            )
            events = list(self.events.get(group_id, []))
            return Finished(events, self.done[group_id], group_id in self.cancelled)
