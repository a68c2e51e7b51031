"""Which waiting group trains next, and in what shape: split, merge and give back, as pure
functions of the waiting and the running jobs.

The scheduler holds both lists under its lock and carries out what these functions decide
(queueing the pieces, merging groups, asking the executor to stop one); nothing here touches the
store, the executor, a lock or the clock, so each rule is tested on plain lists
(tests/unit/test_placement.py).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reglab.training.plan import Group, split


@dataclass
class Job:
    """One group on its way: pending in the queue, then in flight on the executor."""

    group_id: str
    experiment_id: int
    owner: str
    group: Group
    order: int  # submission order: FIFO among equals, kept when a group is queued again
    cancelled: set[int] = field(default_factory=set)
    # Epochs of each run logged before this job: a retrained run stores them again, quietly.
    replay: dict[int, int] = field(default_factory=dict)
    # The newest epoch of each run this job has logged (the replay of a requeue after it).
    logged: dict[int, int] = field(default_factory=dict)
    started: float | None = None  # time.monotonic() when it went to the executor
    preempted: bool = False  # given back for another user's group: queued again when over
    expired: bool = False  # stopped by the time limit


def busy_owners(running: Iterable[Job]) -> Counter[str]:
    """Groups training per owner, not counting those already given back."""
    return Counter(j.owner for j in running if not j.preempted)


def next_to_start(pending: list[Job], running: Iterable[Job]) -> Job:
    """The waiting job to start: its owner's fewest groups training first, then the oldest."""
    busy = busy_owners(running)
    return min(pending, key=lambda j: (busy[j.owner], j.order))


def split_for_idle(pending: list[Job], free: int) -> list[Job]:
    """The waiting list with its largest groups split while workers would stay idle: replicates
    apart, a seed's variants together (`plan.split`). One student alone gets every core.

    `free`: workers with no group. A split piece is named after its group (`g3.1`, `g3.2`) and
    keeps the cancels and replays of its own runs.
    """
    pending = list(pending)
    while pending:
        job = max(pending, key=lambda j: len(j.group.members))
        parts = min(free - len(pending) + 1, len(job.group.members))
        if parts < 2:
            break
        pending.remove(job)
        for i, sub in enumerate(split(job.group, parts)):
            ids = set(sub.run_ids)
            piece = dataclasses.replace(
                job,
                group_id=f"{job.group_id}.{i + 1}",
                group=sub,
                cancelled=job.cancelled & ids,
                replay={r: e for r, e in job.replay.items() if r in ids},
            )
            pending.append(piece)
    return pending


def merge_into(job: Job, pending: list[Job], *, free: int, cap: int) -> list[Job]:
    """The waiting jobs to merge into `job`, about to start, in the order they join it: while
    more groups wait than workers are free, those that can share its batch, up to `cap` members.

    Per member, a lockstep group costs less the larger it is, flattening out near K = 24 for
    the lessons' nets (0.95 s at K = 6, 0.77 s at K = 24, 0.70 s at K = 48 for 200 epochs of
    a 2-128-128-1 net): merging small groups serves a queued class sooner. A job that replays
    epochs is never merged: its replay is per job, not per run.
    """
    if cap <= 1 or len(pending) < free or job.replay:
        return []
    key = job.group.members[0].spec.group_key()
    size = len(job.group.members)
    joining = []
    for other in sorted(pending, key=lambda j: j.order):
        if size + len(other.group.members) > cap:
            continue
        if other.replay or other.group.members[0].spec.group_key() != key:
            continue
        joining.append(other)
        size += len(other.group.members)
    return joining


def withdraw(pending: list[Job], run_ids: set[int]) -> tuple[list[Job], list[int]]:
    """The waiting list without these runs (a job left with none leaves it), and the runs
    taken out: cancelled before they started."""
    left: list[Job] = []
    taken: list[int] = []
    for job in pending:
        hit = set(job.group.run_ids) & run_ids
        taken += sorted(hit)
        rest = tuple(m for m in job.group.members if m.run_id not in hit)
        if rest:
            left.append(dataclasses.replace(job, group=Group(rest)) if hit else job)
    return left, taken


def overdue(running: Iterable[Job], now: float, limit: float) -> list[Job]:
    """The running jobs that started more than `limit` seconds before `now` and are not yet
    stopped for it."""
    return [
        j for j in running if not j.expired and j.started is not None and now - j.started > limit
    ]


def to_give_back(running: list[Job], pending: list[Job], share: int) -> list[Job]:
    """The running jobs to give back so that users under their `share` of groups may start
    theirs: one per such waiting group (less those already leaving), each the newest group of
    the user furthest over their share."""
    busy = busy_owners(running)
    waiting = sum(1 for j in pending if busy[j.owner] < share)
    leaving = sum(1 for j in running if j.preempted)
    chosen: list[Job] = []
    while leaving < waiting:
        over = [o for o, n in busy.items() if n > share]
        if not over:
            break
        owner = max(over, key=lambda o: busy[o])
        job = max(
            (
                j
                for j in running
                if j.owner == owner and not j.preempted and all(j is not c for c in chosen)
            ),
            key=lambda j: j.started or 0.0,
        )
        chosen.append(job)
        busy[owner] -= 1
        leaving += 1
    return chosen
