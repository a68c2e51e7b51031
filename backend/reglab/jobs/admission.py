"""Admission: what one submission may ask of the server, checked before it is stored.

Each group of an experiment must fit one worker's share of the machine (memory, wall time,
snapshots), else 422 names the field to change and the numbers (`group_costs`); what the owner
already has (unfinished experiments, runs, epochs, stored bytes) and what the server already
holds (its queue) give 429 (`check_quota`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from reglab.config import Settings
from reglab.errors import OverLimit, QuotaExceeded
from reglab.jobs.cost import EPOCH_BYTES, Cost, estimate, human_bytes, human_seconds
from reglab.spec import RunSpec
from reglab.training.plan import Member, plan

if TYPE_CHECKING:
    from reglab.store.repo import Store


def group_costs(
    runs: list[tuple[str, RunSpec]], settings: Settings, *, in_challenge: bool = False
) -> list[Cost]:
    """The cost of each lockstep group these runs form; OverLimit for the first that cannot run.
    `in_challenge`: the runs are a challenge's entry or baselines, the only experiments whose
    data may have a private test split (its numbers are sealed only in them)."""
    if not in_challenge and any(spec.data.private_test for _, spec in runs):
        raise OverLimit(
            "base.data.private_test",
            "A private test split is a challenge's (its numbers stay hidden until the "
            "reveal); outside a challenge, leave private_test at 0.",
        )
    for name, spec in runs:
        _check_snapshots(name, spec, settings)
    members = [Member(-1 - i, name, spec) for i, (name, spec) in enumerate(runs)]
    costs = []
    for group in plan(members):
        specs = [m.spec for m in group.members]
        cost = estimate(specs, gflops=settings.worker_gflops)
        _check_memory(cost, specs[0], settings)
        _check_time(cost, specs[0], settings)
        costs.append(cost)
    return costs


def _who(cost: Cost) -> str:
    """The subject and verb of a refusal: "This run needs", "These 64 runs, …, need"."""
    if cost.members == 1:
        return "This run needs"
    return f"These {cost.members} runs, trained together as one group, need"


def _check_snapshots(name: str, spec: RunSpec, settings: Settings) -> None:
    train, limit = spec.train, settings.max_snapshots_per_run
    count = math.ceil(train.epochs / train.snapshot_every)
    if count > limit:
        least = math.ceil(train.epochs / limit)
        raise OverLimit(
            "base.train.snapshot_every",
            f"A snapshot every {train.snapshot_every} epochs over {train.epochs} epochs stores "
            f"{count} snapshots of run {name!r}; the server allows {limit} per run. "
            f"Use snapshot_every of at least {least}.",
        )


def _check_memory(cost: Cost, spec: RunSpec, settings: Settings) -> None:
    limit = settings.max_group_memory_gb * 1e9
    if cost.memory_bytes <= limit:
        return
    need, allowed = human_bytes(cost.memory_bytes), human_bytes(limit)
    head = f"{_who(cost)} ~{need} of memory; the server allows {allowed} per group."
    if cost.parameter_bytes > cost.memory_bytes / 2:
        if cost.members > 1:
            field, advice = "variants", "Use fewer variants, or narrower or fewer hidden layers."
        else:
            field, advice = "base.model.hidden", "Use narrower or fewer hidden layers."
    else:
        field = "base.train.batch_size"
        advice = f"Use a smaller batch_size (now {spec.train.batch_size}), narrower layers" + (
            " or fewer maxout pieces." if spec.model.activation == "maxout" else "."
        )
    raise OverLimit(field, f"{head} {advice}")


def _check_time(cost: Cost, spec: RunSpec, settings: Settings) -> None:
    limit = settings.max_group_seconds
    if cost.seconds <= limit:
        return
    raise OverLimit(
        "base.train.epochs",
        f"{_who(cost)} ~{human_seconds(cost.seconds)} of one worker's time; the server "
        f"allows {human_seconds(limit)} per group. Use fewer epochs (now {spec.train.epochs}), "
        f"less data, a larger batch_size (now {spec.train.batch_size}) or a smaller network.",
    )


def check_quota(
    store: Store,
    settings: Settings,
    *,
    owner: str,
    runs: list[tuple[str, RunSpec]],
    stored: int,
    groups: int,
    waiting: int,
) -> None:
    """QuotaExceeded when these runs (`groups` lockstep groups, `stored` bytes to keep) would
    take the server's queue (`waiting` groups now) or `owner` past a limit."""
    s = settings
    if waiting + groups > s.max_pending_groups:
        raise QuotaExceeded(
            f"The server's queue holds {waiting} groups waiting to train; the "
            f"limit is {s.max_pending_groups}. Try again in a few minutes."
        )
    load = store.user_load(owner)
    epochs = sum(spec.train.epochs for _, spec in runs)
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
    has = store.stored_bytes(owner, per_epoch=EPOCH_BYTES)
    if has + stored > s.max_stored_mb_per_user * 1e6:
        raise QuotaExceeded(_stored_message(owner, has, stored, s.max_stored_mb_per_user))


def _stored_message(owner: str, has: int, adds: int, limit_mb: float) -> str:
    return (
        f"{owner}'s experiments take ~{human_bytes(has)} in the store and this one would add "
        f"~{human_bytes(adds)}; the limit is {human_bytes(limit_mb * 1e6)} per user. Delete "
        "finished experiments you no longer need, or snapshot less often."
    )
