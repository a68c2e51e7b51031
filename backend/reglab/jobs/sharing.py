"""Identical runs computed once: a run that asks for a computation already done is served its
stored numbers; one that asks for a computation under way follows it live.

Two runs are the same computation when their fingerprints match (every spec field, seeds
included, and the training code's version: spec.RunSpec.fingerprint). The computation keeps the
run id of the run that started it (its *source*); `routes` says which runs receive its events.
A follower is a run of its own (its own rows, its owner's quota, deletable on its own): the
numbers are copied, never pointed to, so deleting either run leaves the other whole.

All of it happens under the store's write lock, the one every event is recorded under: a run
that joins a computation gets the rows recorded so far and then every later event, no gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from reglab.events import Event, StatusEvent, SummaryEvent
from reglab.store.records import RunRecord
from reglab.store.repo import Store


class Sharing:
    """Who follows which computation; turns a computation's events into each follower's."""

    def __init__(self, store: Store, *, enabled: bool) -> None:
        self.store = store
        self.enabled = enabled
        self.routes: dict[int, list[int]] = {}  # source run → runs that get its events
        self._computing: dict[str, int] = {}  # fingerprint → source run, queued or training
        self._fingerprint: dict[int, str] = {}  # source run → its fingerprint

    def join(self, runs: Sequence[RunRecord]) -> tuple[list[RunRecord], list[Event]]:
        """Serve or attach each run to an identical computation.

        Returns the runs left to train, and the events that bring the others up to date (what
        their computation has told so far), for the caller to record. The caller holds the
        store's write lock until it has recorded them.
        """
        fresh: list[RunRecord] = []
        copies: list[Event] = []
        for run in runs:
            if not self.enabled or run.fingerprint is None:
                fresh.append(run)
                continue
            source = self._computing.get(run.fingerprint)
            if source is None:
                done = self.store.find_finished(run.fingerprint)
                source = done.id if done is not None else None
            if source is None or source == run.id:
                self._computing[run.fingerprint] = run.id
                self._fingerprint[run.id] = run.fingerprint
                fresh.append(run)
                continue
            if source in self._fingerprint:  # under way (or queued): follow it from here on
                self.routes.setdefault(source, [source]).append(run.id)
            self.store.mark_shared(run.id, source)
            copies += self._as(run.id, self.store.history(source), source)
        return fresh, copies

    def expand(self, events: Iterable[Event]) -> list[Event]:
        """A computation's events as every run that follows it receives them."""
        out: list[Event] = []
        for ev in events:
            targets = self.routes.get(ev.run_id)
            if targets is None:
                out.append(ev)
            else:
                out += self._as_each(targets, ev)
            if _ends(ev):
                self._finished(ev.run_id)
        return out

    def detach(self, run_ids: Iterable[int]) -> tuple[set[int], set[int]]:
        """Cancel runs without stopping a computation others still follow.

        Returns (detached, stop): `detached` runs only stop receiving events (the caller records
        their cancelled status itself, unrouted); `stop` are the computations to cancel now
        (nobody follows them any more), which the caller cancels as usual.
        """
        detached: set[int] = set()
        stop: set[int] = set()
        for run_id in run_ids:
            source = next((s for s, ts in self.routes.items() if run_id in ts), None)
            if source is None:  # nobody shares it: an ordinary cancel
                stop.add(run_id)
                continue
            targets = self.routes[source]
            targets.remove(run_id)
            detached.add(run_id)
            if not targets:  # the last follower left: the computation itself stops
                stop.add(source)
        return detached, stop

    def _finished(self, source: int) -> None:
        self.routes.pop(source, None)
        fingerprint = self._fingerprint.pop(source, None)
        if fingerprint is not None and self._computing.get(fingerprint) == source:
            del self._computing[fingerprint]

    @staticmethod
    def _as_each(targets: Sequence[int], ev: Event) -> list[Event]:
        return [ev if t == ev.run_id else _relabel(ev, t, ev.run_id) for t in targets]

    @staticmethod
    def _as(run_id: int, events: Sequence[Event], source: int) -> list[Event]:
        return [_relabel(ev, run_id, source) for ev in events]


def _ends(ev: Event) -> bool:
    """The computation's last word: its summary, or a status the service ended it with."""
    return isinstance(ev, SummaryEvent) or (isinstance(ev, StatusEvent) and ev.last)


def _relabel(ev: Event, run_id: int, source: int) -> Event:
    """The event as run `run_id` tells it; a summary also says where its numbers came from."""
    if isinstance(ev, SummaryEvent):
        return dataclasses.replace(ev, run_id=run_id, extra={**ev.extra, "shared_from": source})
    return dataclasses.replace(ev, run_id=run_id)
