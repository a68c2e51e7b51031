"""The scheduler: admits experiments under quotas, queues, dispatches, cancels and recovers groups.

It owns what runs and when; the executor owns where. Its state is in memory (pending groups, groups
in flight) and rebuilt from the store at start-up: unfinished runs are queued again, and those a
stop interrupted retrain from their seeds (`Settings.requeue_interrupted`; off, they end
`interrupted`). Training is deterministic and a member trains the same alone or beside others, so
a retrained run rewrites its stored epochs with the same numbers: those are stored again but not
logged a second time, and a viewer's stream goes on with no gap and no duplicate.

Fair share: while some user's group waits, no user keeps more than
`max_running_groups_per_user` groups training; a user over it gives back their newest group,
which is queued again and retrains the same way. A group training past `max_group_seconds` is
stopped and its runs end `failed` with "time limit", keeping the epochs they finished.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from dataclasses import dataclass

from reglab.config import Settings
from reglab.errors import Conflict
from reglab.events import EpochEvent, Event, RunStatus, SnapshotEvent, StatusEvent, SummaryEvent
from reglab.jobs import placement
from reglab.jobs.admission import check_quota, group_costs
from reglab.jobs.cost import human_seconds
from reglab.jobs.executor import Executor
from reglab.jobs.placement import Job
from reglab.journal import Journal
from reglab.spec import ExperimentSpec, RunSpec
from reglab.store.records import ExperimentRecord, RunRecord
from reglab.store.repo import Store
from reglab.training.plan import Group, Member, plan

log = logging.getLogger(__name__)

INTERRUPTED = (
    "The server stopped while this run was training; clone the experiment to run it again."
)
REQUEUED = (
    "The server stopped while this run was training; it trains again from its seeds, "
    "continuing from the last epoch shown."
)
PREEMPTED = (
    "Paused so that other users' runs can start; it trains again from its seeds when a worker "
    "is free, continuing from the last epoch shown."
)
# How a run stopped by the time limit's message begins (the class page flags it by this).
TIME_LIMIT = "Stopped by the time limit"
# How often the deadline watch looks at the groups in flight (seconds).
WATCH_S = 0.25


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as the class page shows it: its runs, and how long it has trained (None: waits)."""

    group_id: str
    run_ids: tuple[int, ...]
    seconds: float | None


class Scheduler:
    """Queue → executor, with per-user fairness and quotas."""

    def __init__(
        self, *, store: Store, recorder: Journal, executor: Executor, settings: Settings
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.executor = executor
        self.settings = settings
        self._pending: list[Job] = []
        self._flight: dict[str, Job] = {}
        self._lock = threading.RLock()
        self._owners: dict[str, threading.Lock] = {}  # per-user: quota check and store
        self._owners_guard = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._watch_deadlines, name="reglab-deadlines")
        self._watch.daemon = True

    @property
    def capacity(self) -> int:
        cap = self.executor.slots
        if self.settings.max_running_groups is not None:
            cap = min(cap, self.settings.max_running_groups)
        return cap

    def board(self) -> tuple[list[GroupView], list[GroupView]]:
        """What trains now (one group a worker slot) and what waits, in queue order."""
        moment = time.monotonic()
        with self._lock:
            flight = [
                GroupView(j.group_id, tuple(j.group.run_ids), moment - (j.started or moment))
                for j in self._flight.values()
            ]
            pending = [
                GroupView(j.group_id, tuple(j.group.run_ids), None)
                for j in sorted(self._pending, key=lambda j: j.order)
            ]
        return flight, pending

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"pending_groups": len(self._pending), "running_groups": len(self._flight)}

    # -- life ----------------------------------------------------------------------------------

    def recover(self) -> int:
        """Take up what the last server left unfinished; returns how many runs it interrupted."""
        runs = self.store.unfinished_runs()
        running = [r for r in runs if r.status == RunStatus.RUNNING]
        if running and not self.settings.requeue_interrupted:
            self.recorder.record(
                [StatusEvent(r.id, RunStatus.INTERRUPTED, INTERRUPTED, last=True) for r in running]
            )
            runs = [r for r in runs if r.status != RunStatus.RUNNING]
        elif running:
            self.recorder.record([StatusEvent(r.id, RunStatus.QUEUED, REQUEUED) for r in running])
        replay = self.store.last_epochs([r.id for r in runs])
        by_experiment: dict[int, list[RunRecord]] = {}
        for run in runs:
            by_experiment.setdefault(run.experiment_id, []).append(run)
        # Runs that followed a computation follow it again (or are served, or train).
        fresh = {e: self.recorder.share(members) for e, members in by_experiment.items()}
        with self._lock:
            for experiment_id, members in fresh.items():
                if members:
                    self._enqueue(experiment_id, members[0].owner, members, replay)
        if running:
            log.warning("%d runs were interrupted by the last stop", len(running))
        self._watch.start()
        self.dispatch()
        return len(running)

    def stop(self) -> None:
        """Dispatch nothing more (the first step of shutting down)."""
        self._stopping.set()

    def interrupt_in_flight(self) -> None:
        """Settle runs still in flight (call once the executor and pump are down): queued again
        for the next start when interrupted runs are requeued, else `interrupted`."""
        with self._lock:
            flight = list(self._flight.values())
            self._flight.clear()
        for job in flight:
            if self.settings.requeue_interrupted:
                self._settle(job, REQUEUED, status=RunStatus.QUEUED)
            else:
                self._settle(job, INTERRUPTED, status=RunStatus.INTERRUPTED)

    # -- requests ------------------------------------------------------------------------------

    def submit(
        self, *, owner: str, spec: ExperimentSpec, tag: tuple[int, str] | None = None
    ) -> ExperimentRecord:
        """Admit an experiment if it fits the server and the owner's quotas; store and queue it.
        `tag`: (challenge, role) for a challenge's entry or baselines, the only experiments
        whose data may have a private test split (its numbers are sealed only in them)."""
        runs = [(planned.name, planned.spec) for planned in spec.members()]
        # 422 before anything is stored
        costs = group_costs(runs, self.settings, in_challenge=tag is not None)
        # One user's submissions one at a time, so that two cannot both pass a quota; other
        # users' go on beside it (the queue's lock is held only to queue, never over a query).
        with self._owner_lock(owner):
            check_quota(
                self.store,
                self.settings,
                owner=owner,
                runs=runs,
                stored=sum(c.stored_bytes for c in costs),
                groups=len(costs),
                waiting=len(self._pending),
            )
            experiment = self.recorder.create_experiment(owner=owner, spec=spec, tag=tag)
            # Quotas count what was asked for; only runs no identical computation serves train.
            fresh = self.recorder.share(experiment.runs)
            with self._lock:
                self._enqueue(experiment.id, owner, fresh, {})
        if len(fresh) < len(experiment.runs):  # some were served: answer with them as now
            experiment = self.store.get_experiment(experiment.id)
        self.dispatch()
        return experiment

    def _owner_lock(self, owner: str) -> threading.Lock:
        with self._owners_guard:
            return self._owners.setdefault(owner, threading.Lock())

    def cancel_run(self, run: RunRecord) -> None:
        if run.finished:
            raise Conflict(f"Run {run.id} is already {run.status}; there is nothing to cancel.")
        self._cancel({run.id})

    def cancel_experiment(self, experiment: ExperimentRecord) -> list[int]:
        ids = {r.id for r in experiment.runs if not r.finished}
        if not ids:
            raise Conflict(
                f"Every run of experiment {experiment.id} has finished; there is nothing to cancel."
            )
        self._cancel(ids)
        return sorted(ids)

    def cancel_all(self) -> list[int]:
        """Cancel every unfinished run of every user (the teacher's emergency stop)."""
        ids = {r.id for r in self.store.unfinished_runs()}
        if ids:
            self._cancel(ids)
        return sorted(ids)

    def on_group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        """The executor finished a group (the pump calls this after storing its events).

        `cancelled`: the executor ended it because it was asked to stop it (a worker deaf to a
        cancel is killed), so `error` tells how, not that training failed.
        """
        with self._lock:
            job = self._flight.pop(group_id, None)
            if job is not None and job.preempted:  # queued again (for the next start, if stopping)
                self._requeue(job)
                job = None
        if job is not None:
            if job.expired:
                self._settle(job, self._time_limit_message(), cancelled=cancelled)
            else:
                reason = error or "Training ended without reporting a result."
                self._settle(job, reason, cancelled=cancelled)
        self.dispatch()

    def loggable(self, group_id: str, event: Event) -> Event | None:
        """What to log of an event a group sent (the pump asks for each): the event itself, a
        changed one, or None to store it without logging it (an epoch viewers already saw)."""
        with self._lock:
            job = self._flight.get(group_id)
            if job is None:
                return event
            if isinstance(event, EpochEvent | SnapshotEvent):
                if event.epoch <= job.replay.get(event.run_id, 0):
                    return None
                if isinstance(event, EpochEvent):
                    # Not into `replay`: that epoch's snapshots come after it and are new too.
                    job.logged[event.run_id] = event.epoch
                return event
            if job.preempted and event.run_id not in job.cancelled:
                return None  # its stop is a pause, not an end: it trains again later
            if job.expired and event.run_id not in job.cancelled:
                if isinstance(event, StatusEvent) and event.status == RunStatus.CANCELLED:
                    return dataclasses.replace(
                        event, status=RunStatus.FAILED, message=self._time_limit_message()
                    )
                if isinstance(event, SummaryEvent) and event.status == RunStatus.CANCELLED:
                    return dataclasses.replace(event, status=RunStatus.FAILED)
            return event

    # -- inside --------------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Start pending groups while there is room, the owner with least running first; when
        there is none, take a slot back from a user over their share for one under it."""
        refused: list[tuple[Job, str]] = []
        with self._lock:
            if self.settings.split_groups:  # while workers would stay idle
                free = self.capacity - len(self._flight)
                self._pending = placement.split_for_idle(self._pending, free)
            while not self._stopping.is_set() and self._pending:
                if len(self._flight) >= self.capacity:
                    self._preempt()
                    break
                job = placement.next_to_start(self._pending, self._flight.values())
                self._pending.remove(job)
                self._absorb(job)
                self._flight[job.group_id] = job
                job.started = time.monotonic()
                try:
                    self.executor.submit(job.group_id, job.group)
                except Exception as exc:  # e.g. a Ray cluster gone: fail the group, not the API
                    log.exception("executor refused group %s", job.group_id)
                    del self._flight[job.group_id]
                    refused.append((job, f"The executor could not start this run: {exc}"))
        for job, reason in refused:
            self._settle(job, reason)

    def _absorb(self, job: Job) -> None:
        """Merge into the group about to start the waiting groups `merge_into` picks (locked)."""
        free = self.capacity - len(self._flight)
        cap = self.settings.merge_group_size
        for other in placement.merge_into(job, self._pending, free=free, cap=cap):
            self._pending.remove(other)
            job.group = Group(job.group.members + other.group.members)
            job.cancelled |= other.cancelled
            log.info("group %s merged into %s", other.group_id, job.group_id)

    def _preempt(self) -> None:
        """Give back groups of users over their share while users under it wait (locked)."""
        share = self.settings.max_running_groups_per_user
        for job in placement.to_give_back(list(self._flight.values()), self._pending, share):
            job.preempted = True
            log.info("group %s of %s given back for another user's group", job.group_id, job.owner)
            self.executor.cancel([r for r in job.group.run_ids if r not in job.cancelled])

    def _requeue(self, job: Job) -> None:
        """A preempted group goes back to the queue with its unfinished runs (locked)."""
        # Queued too: a group given back before its worker said "running" is still queued.
        open_ids = self._open(job, RunStatus.QUEUED, RunStatus.RUNNING) - job.cancelled
        members = tuple(m for m in job.group.members if m.run_id in open_ids)
        if members:
            gid = f"e{job.experiment_id}-g{next(self._ids)}"
            again = Job(gid, job.experiment_id, job.owner, Group(members), job.order)
            seen = {**job.replay, **job.logged}  # an epoch logged now is later than any replay
            again.replay = {r: e for r, e in seen.items() if r in open_ids}
            self._pending.append(again)
            self.recorder.record(
                [StatusEvent(r, RunStatus.QUEUED, PREEMPTED) for r in sorted(open_ids)]
            )
        leftover = set(job.group.run_ids) - open_ids
        if leftover & job.cancelled:  # cancelled while it was being given back
            self._settle(job, "Cancelled on request.", cancelled=True)

    def _watch_deadlines(self) -> None:
        """Stop groups that have trained longer than the time limit."""
        while not self._stopping.wait(WATCH_S):
            limit = self.settings.max_group_seconds
            now = time.monotonic()
            with self._lock:
                late = placement.overdue(self._flight.values(), now, limit)
                for job in late:
                    job.expired = True
            for job in late:
                log.warning("group %s reached the time limit (%g s)", job.group_id, limit)
                self.executor.cancel(job.group.run_ids)

    def _time_limit_message(self) -> str:
        limit = human_seconds(self.settings.max_group_seconds)
        return (
            f"{TIME_LIMIT}: a group may train for {limit} on this server "
            "(REGLAB_MAX_GROUP_SECONDS); the epochs it finished are kept."
        )

    def _enqueue(
        self, experiment_id: int, owner: str, runs: list[RunRecord], replay: dict[int, int]
    ) -> None:
        members = [Member(r.id, r.name, RunSpec.model_validate(r.spec)) for r in runs]
        for group in plan(members):
            n = next(self._ids)
            job = Job(f"e{experiment_id}-g{n}", experiment_id, owner, group, n)
            job.replay = {r: replay[r] for r in group.run_ids if r in replay}
            self._pending.append(job)

    def _cancel(self, run_ids: set[int]) -> None:
        to_executor: list[int] = []
        with self._lock, self.store.write_lock:
            # A run that shares a computation others still follow only stops following it.
            detached, run_ids = self.recorder.sharing.detach(run_ids)
            message = "Cancelled; the identical run it shared goes on for the others."
            self.recorder.record(
                [StatusEvent(r, RunStatus.CANCELLED, message, last=True) for r in detached],
                route=False,
            )
            self._pending, now_cancelled = placement.withdraw(self._pending, run_ids)
            for job in self._flight.values():
                hit = set(job.group.run_ids) & run_ids
                job.cancelled |= hit
                to_executor += sorted(hit)
        if to_executor:
            self.executor.cancel(to_executor)
        if now_cancelled:
            message = "Cancelled before it started."
            self.recorder.record(
                [StatusEvent(r, RunStatus.CANCELLED, message, last=True) for r in now_cancelled]
            )

    def _settle(
        self,
        job: Job,
        reason: str,
        *,
        status: RunStatus = RunStatus.FAILED,
        cancelled: bool = False,
    ) -> None:
        """Give every run of a finished group without a final status one."""
        open_ids = self._open(job, RunStatus.QUEUED, RunStatus.RUNNING)
        events = []
        for run_id in sorted(open_ids):
            if run_id in job.cancelled:
                message = f"Cancelled; {reason}" if cancelled else "Cancelled on request."
                events.append(StatusEvent(run_id, RunStatus.CANCELLED, message, last=True))
            elif status == RunStatus.QUEUED:
                events.append(StatusEvent(run_id, status, reason))
            else:
                events.append(StatusEvent(run_id, status, reason, last=True))
        self.recorder.record(events)

    def _open(self, job: Job, *statuses: RunStatus) -> set[int]:
        """The job's runs in one of these statuses (a merged group spans several experiments)."""
        found = self.store.statuses(job.group.run_ids)
        return {run_id for run_id, status in found.items() if status in statuses}
