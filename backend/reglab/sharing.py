"""Identical runs computed once: a run that asks for a computation already done is served its
stored numbers; one that asks for a computation under way follows it live.

Two runs are the same computation when their fingerprints match (every spec field, seeds
included, and the training code's version: spec.RunSpec.fingerprint). A computation is known by
the id of the run that started it (its *source*, the id its worker reports under).

The numbers (epochs and snapshots) are stored once, under the run that *holds* them (the source,
until it leaves); every run sharing them points there (`run.shared_from`) and the store reads
through that pointer. Statuses and summaries are each run's own: `routes` says which runs receive
them. So a class of 40 clicking one lesson writes its epochs once, not 40 times, and a follower
costs a run row and a few status events. Deleting either run never breaks the other: a holder
that is deleted, or cancelled while others follow, first hands its rows to one of its followers
(store.repo.Store.hand_over).

A computation feeds at most one run per experiment: a run whose experiment already gets its
numbers trains instead (in the same lockstep group, it costs one member). That keeps one cursor
to one message in every experiment's stream (store.log.EventLog.replay).

The journal (reglab/journal.py) asks all of it under the store's write lock, the one every
event is recorded under: a run that joins a computation sees the rows recorded so far and then
every later event, no gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from reglab.events import Event, RunStatus, StatusEvent, SummaryEvent
from reglab.store.history import NUMBERS
from reglab.store.records import SUMMARY_COLUMNS, Logged, RunRecord
from reglab.store.repo import Store


class Sharing:
    """Who follows which computation; where its numbers are stored and who reads them live."""

    def __init__(self, store: Store, *, enabled: bool) -> None:
        self.store = store
        self.enabled = enabled
        self.routes: dict[int, list[int]] = {}  # computation → runs that get its statuses
        self._holder: dict[int, int] = {}  # computation → run holding its rows, if not itself
        self._readers: dict[int, dict[int, int]] = {}  # computation → {experiment: follower}
        self._fed: dict[int, set[int]] = {}  # computation → experiments it feeds
        self._started: set[int] = set()  # computations that have begun training
        self._computing: dict[str, int] = {}  # fingerprint → computation, queued or training
        self._fingerprint: dict[int, str] = {}  # computation → its fingerprint

    def holder(self, computation: int) -> int:
        """The run whose rows hold a computation's numbers."""
        return self._holder.get(computation, computation)

    def join(self, runs: Sequence[RunRecord]) -> tuple[list[RunRecord], list[Event]]:
        """Serve or attach each run to an identical computation.

        Returns the runs left to train, and the status events that bring the others up to date
        (running, or their computation's final status and summary), for the caller to record.
        The caller holds the store's write lock until it has recorded them.
        """
        if not self.enabled:
            return list(runs), []
        fresh: list[RunRecord] = []
        said: list[Event] = []
        served: set[tuple[int, int]] = set()  # (holder, experiment) served in this call
        pointers: dict[int, int | None] = {}  # run → holder, written in one go at the end
        # What the store has finished, looked up for the whole submission at once.
        finished = self.store.find_finished(
            r.fingerprint
            for r in runs
            if r.fingerprint is not None and r.fingerprint not in self._computing
        )
        for run in runs:
            if run.fingerprint is None:
                fresh.append(run)
                continue
            source = self._computing.get(run.fingerprint)
            if source is not None:
                if run.experiment_id in self._fed[source]:
                    fresh.append(run)  # its experiment has this computation's numbers already
                    continue
                pointers[run.id] = self._follow(run, source)
                if source in self._started:
                    said.append(StatusEvent(run.id, RunStatus.RUNNING))
                continue
            done = finished.get(run.fingerprint)
            holder = 0 if done is None else done.shared_from or done.id
            if done is None or (holder, run.experiment_id) in served:
                if run.shared_from is not None:  # it followed a computation gone (a restart)
                    pointers[run.id] = None
                self._start(run)
                fresh.append(run)
                continue
            served.add((holder, run.experiment_id))
            pointers[run.id] = holder
            said += [_relabel(ev, run.id, holder) for ev in final_events(done)]
        self.store.mark_shared(pointers)
        return fresh, said

    def expand(self, events: Iterable[Event]) -> list[Event]:
        """A computation's events as stored: its numbers once, under the run holding them; its
        statuses and summary for every run that follows it."""
        out: list[Event] = []
        for ev in events:
            computation = ev.run_id
            if ev.type in NUMBERS:
                holder = self._holder.get(computation)
                out.append(ev if holder is None else dataclasses.replace(ev, run_id=holder))
                continue
            targets = self.routes.get(computation)
            if targets is None:
                out.append(ev)
            else:
                holder = self.holder(computation)
                out += [ev if t == computation else _relabel(ev, t, holder) for t in targets]
            if isinstance(ev, StatusEvent) and ev.status == RunStatus.RUNNING:
                self._started.add(computation)
            if _ends(ev):
                self._finished(computation)
        return out

    def live_readers(self) -> dict[int, dict[int, int]]:
        """Holder → {experiment: follower} now; taken before a batch is expanded, since a
        computation that ends in the batch forgets its followers, whose last epochs are in it."""
        return {self.holder(c): dict(r) for c, r in self._readers.items() if r}

    def read_live(
        self,
        logged: Sequence[Logged],
        watched: Callable[[int], bool],
        by_holder: dict[int, dict[int, int]],
    ) -> list[Logged]:
        """The numbers just stored, as each follower's experiment streams them (only for
        experiments someone watches: the store serves the rest when they are asked for)."""
        # Whether anyone watches is asked once per experiment and batch, not per event and
        # follower: a class of 40 following one lesson asked 280,000 times (0.6 CPU s).
        experiments = {e for readers in by_holder.values() for e in readers}
        seen = {e for e in experiments if watched(e)}
        shown = {
            holder: watching
            for holder, readers in by_holder.items()
            if (watching := {e: r for e, r in readers.items() if e in seen})
        }
        out: list[Logged] = []
        if not shown:
            return out
        for entry in logged:
            readers = shown.get(entry.message["run_id"])
            if readers is None or entry.message["type"] not in NUMBERS:
                continue
            for experiment_id, run_id in readers.items():
                message = {**entry.message, "run_id": run_id, "experiment_id": experiment_id}
                out.append(Logged(entry.seq, experiment_id, message))
        return out

    def detach(self, run_ids: Iterable[int]) -> tuple[set[int], set[int]]:
        """Cancel runs without stopping a computation others still follow.

        Returns (detached, stop): `detached` runs only stop receiving events (the caller records
        their cancelled status itself, unrouted); `stop` are the computations to cancel now
        (nobody follows them any more), which the caller cancels as usual. A run holding the
        numbers that leaves keeps its rows so far; a follower takes over the rest.
        """
        detached: set[int] = set()
        stop: set[int] = set()
        for run_id in run_ids:
            computation = next((c for c, ts in self.routes.items() if run_id in ts), None)
            if computation is None:  # nobody shares it: an ordinary cancel
                stop.add(run_id)
                continue
            targets = self.routes[computation]
            targets.remove(run_id)
            detached.add(run_id)
            readers = self._readers.get(computation, {})
            if run_id == self.holder(computation) and targets:
                heir = self.store.hand_over(run_id, among=targets)
                if heir is not None:
                    self._holder[computation] = heir
                    readers = {e: r for e, r in readers.items() if r != heir}
            else:
                readers = {e: r for e, r in readers.items() if r != run_id}
            self._readers[computation] = readers
            if not targets:  # the last follower left: the computation itself stops
                stop.add(computation)
        return detached, stop

    def _start(self, run: RunRecord) -> None:
        self._computing[run.fingerprint or ""] = run.id
        self._fingerprint[run.id] = run.fingerprint or ""
        self._fed[run.id] = {run.experiment_id}

    def _follow(self, run: RunRecord, computation: int) -> int:
        """Route a computation's statuses to `run` too; returns the run holding its numbers."""
        self.routes.setdefault(computation, [computation]).append(run.id)
        self._readers.setdefault(computation, {})[run.experiment_id] = run.id
        self._fed[computation].add(run.experiment_id)
        return self.holder(computation)

    def _finished(self, computation: int) -> None:
        self.routes.pop(computation, None)
        self._holder.pop(computation, None)
        self._readers.pop(computation, None)
        self._fed.pop(computation, None)
        self._started.discard(computation)
        fingerprint = self._fingerprint.pop(computation, None)
        if fingerprint is not None and self._computing.get(fingerprint) == computation:
            del self._computing[fingerprint]


def final_events(run: RunRecord) -> list[Event]:
    """A finished run's last words: its final status, and its summary when it has one."""
    if not run.finished:
        return []
    status = RunStatus(run.status)
    summary = run.summary
    at = None if summary is None else summary["epochs_run"]
    final: list[Event] = [StatusEvent(run.id, status, run.message, at, summary is None)]
    if summary is not None:
        final.append(_summary_event(run.id, status, summary))
    return final


def _summary_event(run_id: int, status: RunStatus, summary: dict[str, Any]) -> SummaryEvent:
    values = {name: summary[name] for name in SUMMARY_COLUMNS}
    return SummaryEvent(run_id=run_id, status=status, extra=dict(summary["extra"]), **values)


def _ends(ev: Event) -> bool:
    """The computation's last word: its summary, or a status the service ended it with."""
    return isinstance(ev, SummaryEvent) or (isinstance(ev, StatusEvent) and ev.last)


def _relabel(ev: Event, run_id: int, holder: int) -> Event:
    """The event as run `run_id` tells it; a summary also says where its numbers are held."""
    if isinstance(ev, SummaryEvent):
        return dataclasses.replace(ev, run_id=run_id, extra={**ev.extra, "shared_from": holder})
    return dataclasses.replace(ev, run_id=run_id)
