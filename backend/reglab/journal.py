"""The event journal: where an event becomes a stored, numbered, published frame, and the only
place that writes the event log.

From a worker to a websocket an event goes: the executor hands it to the pump (jobs/pump.py),
which only queues it; a batch of what workers said comes here (`Journal.take`), where

1. the scheduler's log policy says what of each event to log (`LogPolicy`: the event itself, a
   changed one, or None: stored quietly, an epoch viewers already saw);
2. a shared computation's events are relabeled for the runs that share it (reglab/sharing.py);
3. the event log stores them and numbers their cursors (store/log.py);
4. each becomes a frame (`frame_of`: the JSON text it was stored as, with its cursor) and goes to
   the hub (live.py) — still under the store's write lock, so publish order is commit order and
   a stream can follow "cursor > last seen" without missing one.

A stream's replay reads the same frames back from the log (`Journal.page`), so what it replays
and what it is sent live are one shape, made here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from reglab.events import Event
from reglab.live import Frame, Hub
from reglab.sharing import Sharing
from reglab.spec import ExperimentSpec
from reglab.store.log import EventLog
from reglab.store.records import ExperimentRecord, Logged, RunRecord
from reglab.store.repo import Store

log = logging.getLogger(__name__)
RETRIES = 4

LogPolicy = Callable[[str, Event], Event | None]
"""What to log of an event the group `group_id` sent: the event itself, a changed one, or None
to store it without logging it. The scheduler's (`Scheduler.loggable`) knows which epochs a
retrained run's viewers saw already and which stops are pauses."""


def log_everything(_group_id: str, event: Event) -> Event | None:
    """The policy before a scheduler hands over its own: every event logged as it is."""
    return event


def wire_text(message: dict[str, Any]) -> str:
    """The JSON text of one message as the websocket sends it."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


def frame_of(m: Logged) -> Frame:
    """A logged event as a stream sends it (live from the hub, or replayed from the store): its
    cursor, its text, and the run it pictures when it is a snapshot.

    The writer's text is the event as stored, encoded once (a snapshot's grid is the largest
    thing reglab sends): its cursor and experiment are spliced in rather than encoding it again.
    An entry without one (replayed, relabeled for a follower, sealed) is encoded from its
    message, which holds them already."""
    pictures = m.message.get("run_id") if m.message.get("type") == "snapshot" else None
    if m.text is None:
        return Frame(m.seq, wire_text(m.message), pictures)
    text = f'{m.text[:-1]},"cursor":{m.seq},"experiment_id":{m.experiment_id}}}'
    return Frame(m.seq, text, pictures)


def _frames(logged: Sequence[Logged]) -> list[tuple[int, Frame]]:
    # Made here, once, rather than once per watching client.
    return [(m.experiment_id, frame_of(m)) for m in logged]


class Journal:
    """Writes that produce events: commit them, then publish their frames, under one lock.

    A computation's events reach every run that shares it (reglab/sharing.py) unless `route` is
    False: a status the service gives one run (a follower's cancel) is that run's alone.
    """

    def __init__(self, store: Store, hub: Hub[Frame], *, share_runs: bool = True) -> None:
        self.store = store
        self.hub = hub
        self.log = EventLog(store)
        self.sharing = Sharing(store, enabled=share_runs)
        # Handed over by the scheduler once it exists (jobs/runtime.py): it is built after us.
        self.policy: LogPolicy = log_everything

    def take(self, said: Sequence[tuple[str, Event]]) -> None:
        """Record what workers said, (group, event) in order, as the policy says: a failed
        commit (e.g. the database locked past its busy timeout) is retried, since a lost batch
        would leave a gap in every viewer's curves."""
        events: list[Event] = []
        quiet: list[Event] = []
        for group_id, event in said:
            kept = self.policy(group_id, event)
            if kept is None:
                quiet.append(event)
            else:
                events.append(kept)
        if quiet:
            try:
                self.log.store_quietly(quiet)
            except Exception:
                log.exception("journal: storing %d events quietly failed", len(quiet))
        if not events:
            return
        try:
            self.record(events, tries=RETRIES)
        except Exception:
            log.exception("journal: dropped %d events after %d tries", len(events), RETRIES)

    def record(
        self, events: Sequence[Event], *, route: bool = True, tries: int = 1
    ) -> list[Logged]:
        """Log events and publish them; returns them as logged (the sharing runs' copies not).

        Only the commit is tried again (up to `tries` times): a failed one wrote nothing, while
        a step after it failing and the whole tried again would log the events twice, under new
        cursors, and every viewer would get them twice."""
        with self.store.write_lock:
            readers = self.sharing.live_readers()
            if route:
                events = self.sharing.expand(events)
            logged = self._commit(events, tries)
            shared = self.sharing.read_live(logged, self._watched, readers)
            # In cursor order: a follower's summary must not pass its computation's last epoch
            # (a stream sends only cursors above the last it sent).
            self.hub.publish(
                _frames(sorted(logged + shared, key=attrgetter("seq")) if shared else logged)
            )
        return logged

    def _commit(self, events: Sequence[Event], tries: int) -> list[Logged]:
        """The event log's commit, tried again after a failure (e.g. the database locked past
        its busy timeout) when `tries` allows: a lost batch leaves a gap in every viewer's
        curves. The last failure is raised."""
        for attempt in range(tries):
            try:
                return self.log.record(events)
            except Exception:
                if attempt == tries - 1:
                    raise
                n = len(events)
                log.exception("journal: recording %d events failed (try %d)", n, attempt + 1)
                time.sleep(0.2 * 2**attempt)
        return []

    def _watched(self, experiment_id: int) -> bool:
        return self.hub.subscribers(experiment_id) > 0

    def share(self, runs: Sequence[RunRecord]) -> list[RunRecord]:
        """Serve or attach runs to identical computations; returns the runs left to train."""
        if not self.sharing.enabled:  # nothing to look up: no need to wait for the writer
            return list(runs)
        with self.store.write_lock:
            fresh, said = self.sharing.join(runs)
            self.hub.publish(_frames(self.log.record(said)))
        return fresh

    def create_experiment(
        self, *, owner: str, spec: ExperimentSpec, tag: tuple[int, str] | None = None
    ) -> ExperimentRecord:
        """Store an experiment with its runs queued, and publish their queued statuses."""
        with self.store.write_lock:
            experiment, logged = self.store.create_experiment(owner=owner, spec=spec, tag=tag)
            self.hub.publish(_frames(logged))
        return experiment

    def page(self, experiment_id: int, *, after: int, limit: int) -> list[Frame]:
        """The frames an experiment's stream replays after cursor `after`, oldest first."""
        return [frame_of(m) for m in self.log.replay(experiment_id, after=after, limit=limit)]
