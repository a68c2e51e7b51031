"""The executor interface: where training groups run, and how their events come back.

The scheduler owns *what* runs and when; an executor owns *where*. Two implementations exist:
`local.py` (a warm pool of spawned processes, the embedded default) and `ray.py` (a Ray cluster,
for a class that outgrows one machine). `jobs/executors.py` builds the one that
`Settings.executor` names.

The contract every executor keeps:

1. `start(sink)` is called once before anything else; the executor may warm workers here.
2. `submit(group_id, group)` is only called while fewer than `slots` groups are in flight, and
   returns quickly (it never waits for training). `group_id` is an opaque string, unique per
   submission.
3. While the group trains, every event `train_group` yields is handed to `sink.event(group_id, ev)`
   in the order it was yielded. Events are the plain dataclasses of `reglab.events`.
4. When the group is over, for whatever reason, `sink.group_done(group_id, error, cancelled)` is
   called exactly once, *after* the last `sink.event` of that group. `error` is None when
   `train_group` returned normally, else one sentence a student can read ("the worker process
   died (signal 9)", "ValueError: ..."). `cancelled` is True when the executor ended the group
   because it was asked to stop it (5.), so `error` then tells how, not that training failed.
   The scheduler then settles every run of the group that has no final status yet (failed with
   that error, or cancelled when a cancel was asked for).
5. `cancel(run_ids)` asks the members with those run ids to stop at their next step
   (`should_stop(run_id)` becomes true inside `train_group`). It returns at once. If the group
   does not finish within `Settings.cancel_grace_s` after *all* its members were cancelled, the
   executor kills whatever runs it (and replaces a killed pool worker); it still calls
   `group_done` with an error (and `cancelled=True`) then.
6. `shutdown()` stops all work and releases workers; no sink call happens after it returns.
7. `ready_workers()` says how many workers are warm and may take a group now, or None where the
   executor cannot tell (a cluster).

Sink methods may be called from any thread and must not block (the real sink puts on a queue).
"""

from __future__ import annotations

import abc
from typing import Protocol

from reglab.events import Event
from reglab.training.plan import Group


class ExecutorUnavailable(RuntimeError):
    """The configured executor cannot start (e.g. Ray is not installed or not reachable)."""


class EventSink(Protocol):
    """Where an executor delivers what training says. Thread-safe, never blocking."""

    def event(self, group_id: str, event: Event) -> None:
        """One event yielded by `train_group` for the group `group_id`."""

    def group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        """The group is over; no further `event` for it will come."""


class Executor(abc.ABC):
    """Runs training groups somewhere and reports their events to a sink."""

    @property
    @abc.abstractmethod
    def slots(self) -> int:
        """How many groups may be in flight at once (the scheduler never submits more)."""

    def ready_workers(self) -> int | None:
        """Workers warm and able to take a group now; None where the executor cannot tell."""
        return None

    @abc.abstractmethod
    def start(self, sink: EventSink) -> None:
        """Get ready to take work; events and completions go to `sink` from now on."""

    @abc.abstractmethod
    def submit(self, group_id: str, group: Group) -> None:
        """Start training `group` (returns at once; results arrive through the sink)."""

    @abc.abstractmethod
    def cancel(self, run_ids: list[int]) -> None:
        """Ask these runs to stop at their next step; kill their worker if it does not listen."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop all work, release workers; the sink hears nothing more afterwards."""
