"""The scheduler: admits experiments under quotas, queues, dispatches, cancels and recovers groups.

It owns what runs and when; the executor owns where. Its state is in memory (pending groups, groups
in flight) and rebuilt from the store at start-up: runs a dead server left `running` are marked
`interrupted` (their worker is gone, and a partial run cannot be resumed exactly), `queued` ones
are queued again.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field

from reglab.config import Settings
from reglab.errors import Conflict, QuotaExceeded
from reglab.events import RunStatus, StatusEvent
from reglab.jobs.executor import Executor
from reglab.jobs.pump import Recorder
from reglab.spec import ExperimentSpec, RunSpec
from reglab.store.records import ExperimentRecord, RunRecord
from reglab.store.repo import Store
from reglab.training.plan import Group, Member, plan

log = logging.getLogger(__name__)

INTERRUPTED = (
    "The server stopped while this run was training; clone the experiment to run it again."
)


@dataclass
class _Job:
    """One group on its way: pending in the queue, then in flight on the executor."""

    group_id: str
    experiment_id: int
    owner: str
    group: Group
    cancelled: set[int] = field(default_factory=set)


class Scheduler:
    """Queue → executor, with per-user fairness and quotas."""

    def __init__(
        self, *, store: Store, recorder: Recorder, executor: Executor, settings: Settings
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.executor = executor
        self.settings = settings
        self._pending: list[_Job] = []
        self._flight: dict[str, _Job] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._stopping = False

    @property
    def capacity(self) -> int:
        cap = self.executor.slots
        if self.settings.max_running_groups is not None:
            cap = min(cap, self.settings.max_running_groups)
        return cap

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"pending_groups": len(self._pending), "running_groups": len(self._flight)}

    # -- life ----------------------------------------------------------------------------------

    def recover(self) -> int:
        """Mark runs left `running` interrupted, queue the `queued` ones; returns how many were."""
        running, _ = self.store.list_runs(statuses=["running"], limit=100_000)
        self.recorder.record(
            [StatusEvent(r.id, RunStatus.INTERRUPTED, INTERRUPTED, last=True) for r in running]
        )
        queued, _ = self.store.list_runs(statuses=["queued"], limit=100_000)
        by_experiment: dict[int, list[RunRecord]] = {}
        for run in queued:
            by_experiment.setdefault(run.experiment_id, []).append(run)
        with self._lock:
            for experiment_id, runs in by_experiment.items():
                self._enqueue(experiment_id, runs[0].owner, runs)
        if running:
            log.warning("marked %d runs interrupted after a restart", len(running))
        self.dispatch()
        return len(running)

    def stop(self) -> None:
        """Dispatch nothing more (the first step of shutting down)."""
        with self._lock:
            self._stopping = True

    def interrupt_in_flight(self) -> None:
        """Runs still in flight end `interrupted` (call once the executor and pump are down)."""
        with self._lock:
            flight = list(self._flight.values())
            self._flight.clear()
        for job in flight:
            self._settle(job, INTERRUPTED, status=RunStatus.INTERRUPTED)

    # -- requests ------------------------------------------------------------------------------

    def submit(self, *, owner: str, spec: ExperimentSpec) -> ExperimentRecord:
        """Admit an experiment if the owner's quotas allow it, store it, and queue its groups."""
        runs = [planned.spec for planned in spec.members()]
        with self._lock:
            self._check_quota(owner, runs)
            experiment = self.recorder.create_experiment(owner=owner, spec=spec)
            # Quotas count what was asked for; only runs no identical computation serves train.
            fresh = self.recorder.share(experiment.runs)
            self._enqueue(experiment.id, owner, fresh)
            if len(fresh) < len(experiment.runs):  # some were served: answer with them as now
                experiment = self.store.get_experiment(experiment.id)
        self.dispatch()
        return experiment

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
        runs, _ = self.store.list_runs(statuses=["queued", "running"], limit=100_000)
        ids = {r.id for r in runs}
        if ids:
            self._cancel(ids)
        return sorted(ids)

    def on_group_done(self, group_id: str, error: str | None) -> None:
        """The executor finished a group (the pump calls this after storing its events)."""
        with self._lock:
            job = self._flight.pop(group_id, None)
        if job is not None:
            self._settle(job, error or "Training ended without reporting a result.")
        self.dispatch()

    # -- inside --------------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Start pending groups while there is room, the owner with least running first."""
        refused: list[tuple[_Job, str]] = []
        with self._lock:
            while not self._stopping and self._pending and len(self._flight) < self.capacity:
                busy = Counter(j.owner for j in self._flight.values())
                job = min(self._pending, key=lambda j: busy[j.owner])  # FIFO among equals
                self._pending.remove(job)
                self._flight[job.group_id] = job
                try:
                    self.executor.submit(job.group_id, job.group)
                except Exception as exc:  # e.g. a Ray cluster gone: fail the group, not the API
                    log.exception("executor refused group %s", job.group_id)
                    del self._flight[job.group_id]
                    refused.append((job, f"The executor could not start this run: {exc}"))
        for job, reason in refused:
            self._settle(job, reason)

    def _enqueue(self, experiment_id: int, owner: str, runs: list[RunRecord]) -> None:
        members = [Member(r.id, r.name, RunSpec.model_validate(r.spec)) for r in runs]
        for group in plan(members):
            gid = f"e{experiment_id}-g{next(self._ids)}"
            self._pending.append(_Job(gid, experiment_id, owner, group))

    def _cancel(self, run_ids: set[int]) -> None:
        now_cancelled: list[int] = []
        to_executor: list[int] = []
        with self._lock, self.store.write_lock:
            # A run that shares a computation others still follow only stops following it.
            detached, run_ids = self.recorder.sharing.detach(run_ids)
            message = "Cancelled; the identical run it shared goes on for the others."
            self.recorder.record(
                [StatusEvent(r, RunStatus.CANCELLED, message, last=True) for r in detached],
                route=False,
            )
            for job in list(self._pending):
                hit = {m.run_id for m in job.group.members} & run_ids
                if not hit:
                    continue
                now_cancelled += sorted(hit)
                rest = tuple(m for m in job.group.members if m.run_id not in hit)
                if rest:
                    job.group = Group(rest)
                else:
                    self._pending.remove(job)
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

    def _settle(self, job: _Job, reason: str, *, status: RunStatus = RunStatus.FAILED) -> None:
        """Give every run of a finished group without a final status one."""
        runs, _ = self.store.list_runs(
            experiment_id=job.experiment_id, statuses=["queued", "running"]
        )
        open_ids = {r.id for r in runs} & set(job.group.run_ids)
        events = []
        for run_id in sorted(open_ids):
            if run_id in job.cancelled:
                events.append(
                    StatusEvent(run_id, RunStatus.CANCELLED, _cancel_reason(reason), last=True)
                )
            else:
                events.append(StatusEvent(run_id, status, reason, last=True))
        self.recorder.record(events)

    def _check_quota(self, owner: str, runs: list[RunSpec]) -> None:
        s = self.settings
        load = self.store.user_load(owner)
        epochs = sum(spec.train.epochs for spec in runs)
        if load.experiments + 1 > s.max_queued_experiments_per_user:
            raise QuotaExceeded(
                f"{owner} already has {load.experiments} unfinished experiments; the limit is "
                f"{s.max_queued_experiments_per_user}. Wait for one to finish or cancel one."
            )
        if load.runs + len(runs) > s.max_running_runs_per_user:
            raise QuotaExceeded(
                f"{owner} would have {load.runs + len(runs)} unfinished runs; the limit is "
                f"{s.max_running_runs_per_user}. Use fewer variants or wait."
            )
        if load.member_epochs + epochs > s.max_member_epochs_per_user:
            raise QuotaExceeded(
                f"{owner} would have {load.member_epochs + epochs} epochs of unfinished runs; the "
                f"limit is {s.max_member_epochs_per_user}. Use fewer epochs or wait."
            )


def _cancel_reason(reason: str) -> str:
    return reason if reason.startswith("cancelled") else "Cancelled on request."
