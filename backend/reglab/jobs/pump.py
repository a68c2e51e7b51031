"""The event pump: the executor's sink. It queues what workers say, and a thread hands it to the
journal (reglab/journal.py) in batches: one transaction and one publish for an epoch of every
group in flight, rather than one per worker message.

A group's end is handed to the scheduler only after its events are recorded, so a run is settled
after its last epoch is stored.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from reglab.events import Event
from reglab.journal import Journal

log = logging.getLogger(__name__)
BATCH = 256
GATHER_S = 0.01  # how long a batch waits for more events: +10 ms on the way to the page


@dataclass(frozen=True, slots=True)
class _Done:
    group_id: str
    error: str | None
    cancelled: bool


_Said = tuple[str, Event]  # (group, event), in the order the executor handed them over


class Pump:
    """The executor's sink: queues what workers say; a thread hands it to the journal in batches."""

    def __init__(
        self, journal: Journal, on_group_done: Callable[[str, str | None, bool], None]
    ) -> None:
        self._journal = journal
        self._on_group_done = on_group_done
        self._queue: queue.SimpleQueue[_Said | _Done | None] = queue.SimpleQueue()  # None: stop
        self._thread = threading.Thread(target=self._run, name="reglab-pump", daemon=True)

    def event(self, group_id: str, event: Event) -> None:
        self._queue.put((group_id, event))

    def group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        self._queue.put(_Done(group_id, error, cancelled))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Record everything already queued, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            # What comes within GATHER_S joins the batch.
            until = time.monotonic() + GATHER_S
            while len(items) < BATCH:
                try:
                    items.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            said: list[_Said] = []
            for item in items:
                if item is None:
                    self._guard(self._journal.take, said)
                    return
                if isinstance(item, _Done):
                    self._guard(self._journal.take, said)  # stored before the group settles
                    said = []
                    self._guard(self._on_group_done, item.group_id, item.error, item.cancelled)
                else:
                    said.append(item)
            self._guard(self._journal.take, said)

    @staticmethod
    def _guard(fn: Callable[..., object], *args: object) -> None:
        # The pump must outlive any one bad batch: log it and go on with the next.
        try:
            fn(*args)
        except Exception:
            log.exception("event pump: %s failed", getattr(fn, "__name__", fn))
