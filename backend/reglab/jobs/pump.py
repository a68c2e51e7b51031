"""The event pump: the one writer that commits worker events in batches, then publishes them.

Commit order and publish order are the same order (the store's write lock covers both), so a
websocket client can follow the live stream with "cursor > last seen" and never miss an event.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from reglab.events import Event
from reglab.jobs.sharing import Sharing
from reglab.live import Frame, Hub
from reglab.spec import ExperimentSpec
from reglab.store.records import ExperimentRecord, Logged, RunRecord
from reglab.store.repo import Store

log = logging.getLogger(__name__)
BATCH = 256
GATHER_S = 0.01  # how long a batch waits for more events: +10 ms on the way to the page
RETRIES = 4


class Recorder:
    """Writes that produce events: commit them, then publish them, under one lock.

    A computation's events reach every run that shares it (jobs/sharing.py) unless `route` is
    False: a status the service gives one run (a follower's cancel) is that run's alone.
    """

    def __init__(self, store: Store, hub: Hub, *, share_runs: bool = True) -> None:
        self.store = store
        self.hub = hub
        self.sharing = Sharing(store, enabled=share_runs)

    def record(self, events: Sequence[Event], *, route: bool = True) -> list[Logged]:
        with self.store.write_lock:
            readers = self.sharing.live_readers()
            if route:
                events = self.sharing.expand(events)
            logged = self.store.record(events)
            shared = self.sharing.read_live(logged, self._watched, readers)
            # In cursor order: a follower's summary must not pass its computation's last epoch
            # (a stream sends only cursors above the last it sent).
            self.hub.publish(
                _frames(sorted(logged + shared, key=attrgetter("seq")) if shared else logged)
            )
        return logged

    def _watched(self, experiment_id: int) -> bool:
        return self.hub.subscribers(experiment_id) > 0

    def share(self, runs: Sequence[RunRecord]) -> list[RunRecord]:
        """Serve or attach runs to identical computations; returns the runs left to train."""
        if not self.sharing.enabled:  # nothing to look up: no need to wait for the writer
            return list(runs)
        with self.store.write_lock:
            fresh, said = self.sharing.join(runs)
            self.hub.publish(_frames(self.store.record(said)))
        return fresh

    def create_experiment(
        self, *, owner: str, spec: ExperimentSpec, tag: tuple[int, str] | None = None
    ) -> ExperimentRecord:
        with self.store.write_lock:
            experiment, logged = self.store.create_experiment(owner=owner, spec=spec, tag=tag)
            self.hub.publish(_frames(logged))
        return experiment


def wire_text(message: dict[str, Any]) -> str:
    """The JSON text of one message as the websocket sends it."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


def frame_of(m: Logged) -> Frame:
    """A logged event as the stream sends it (live from the hub, or replayed from the store):
    its cursor, its text, and the run it pictures when it is a snapshot."""
    pictures = m.message.get("run_id") if m.message.get("type") == "snapshot" else None
    return Frame(m.seq, m.text or wire_text(m.message), pictures)


def _frames(logged: list[Logged]) -> list[tuple[int, Frame]]:
    # Serialized here, once, rather than once per watching client.
    return [(m.experiment_id, frame_of(m)) for m in logged]


@dataclass(frozen=True, slots=True)
class _Done:
    group_id: str
    error: str | None
    cancelled: bool


@dataclass(frozen=True, slots=True)
class _Said:
    group_id: str
    event: Event


def _as_is(_group_id: str, event: Event) -> Event | None:
    return event


_STOP = object()


class Pump:
    """The executor's sink: queues what workers say; a thread records it in batches."""

    def __init__(
        self,
        recorder: Recorder,
        on_group_done: Callable[[str, str | None, bool], None],
        on_ingest: Callable[[Event, float], None] | None = None,
        loggable: Callable[[str, Event], Event | None] = _as_is,
    ) -> None:
        self._recorder = recorder
        self._on_group_done = on_group_done
        # What to log of each event: itself, a changed one, or None (stored, not logged).
        self._loggable = loggable
        self.on_ingest = on_ingest  # a probe for the latency benchmark
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="reglab-pump", daemon=True)

    def event(self, group_id: str, event: Event) -> None:
        if self.on_ingest is not None:
            self.on_ingest(event, time.perf_counter())
        self._queue.put(_Said(group_id, event))

    def group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        self._queue.put(_Done(group_id, error, cancelled))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Record everything already queued, then end the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            # What comes within GATHER_S joins the batch: one transaction and one publish for
            # an epoch of every group in flight, rather than one per worker message.
            until = time.monotonic() + GATHER_S
            while len(items) < BATCH:
                try:
                    items.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            events: list[Event] = []
            quiet: list[Event] = []
            for item in items:
                if item is _STOP:
                    self._flush(events, quiet)
                    return
                if isinstance(item, _Done):
                    self._flush(events, quiet)  # a group's events are stored before it settles
                    events, quiet = [], []
                    self._guard(self._on_group_done, item.group_id, item.error, item.cancelled)
                elif isinstance(item, _Said):
                    said = self._loggable(item.group_id, item.event)
                    if said is None:
                        quiet.append(item.event)
                    else:
                        events.append(said)
            self._flush(events, quiet)

    def _flush(self, events: list[Event], quiet: list[Event]) -> None:
        """Record a batch, retrying a failed commit (e.g. the database locked past its busy
        timeout): a lost batch would leave a gap in every viewer's curves."""
        if quiet:
            self._guard(self._recorder.store.store_quietly, quiet)
        for attempt in range(RETRIES):
            if not events:
                return
            try:
                self._recorder.record(events)
                return
            except Exception:
                log.exception(
                    "event pump: recording %d events failed (try %d)", len(events), attempt + 1
                )
                time.sleep(0.2 * 2**attempt)
        log.error("event pump: dropped %d events after %d tries", len(events), RETRIES)

    @staticmethod
    def _guard(fn: Callable[..., object], *args: object) -> None:
        # The pump must outlive any one bad batch: log it and go on with the next.
        try:
            fn(*args)
        except Exception:
            log.exception("event pump: %s failed", getattr(fn, "__name__", fn))
