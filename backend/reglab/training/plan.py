"""Which runs of an experiment can train together in lockstep, as one batched computation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reglab.spec import RunSpec


@dataclass(frozen=True, slots=True)
class Member:
    """One run inside a group: its id (as stored), its label and its spec."""

    run_id: int
    name: str
    spec: RunSpec


@dataclass(frozen=True, slots=True)
class Group:
    """Runs that share data, architecture, optimizer kind, batch size and batch order."""

    members: tuple[Member, ...]

    @property
    def run_ids(self) -> list[int]:
        return [m.run_id for m in self.members]


def plan(members: Sequence[Member]) -> list[Group]:
    """Split runs into groups that can share a batch, keeping first-seen order."""
    groups: dict[tuple[object, ...], list[Member]] = {}
    for member in members:
        groups.setdefault(member.spec.group_key(), []).append(member)
    return [Group(tuple(ms)) for ms in groups.values()]


def split(group: Group, parts: int) -> list[Group]:
    """The group as at most `parts` sub-groups of near-equal size, for idle workers to train
    side by side: the largest part sets the time, so sizes come first.

    Members that share a train seed (a comparison's variants) stay together when whole seeds
    make parts as even as members can (they share their minibatches); otherwise the members are
    cut, in order, into near-equal runs: 5 seeds of 6 variants go 15 + 15, not 18 + 12 (a part
    with two or more seeds gathers each member's batches anyway). A member trains exactly as
    alone in any group, so the numbers never depend on the split.
    """
    parts = max(1, min(parts, len(group.members)))
    if parts == 1:
        return [group]
    by_seed: dict[int, list[Member]] = {}
    for member in group.members:
        by_seed.setdefault(member.spec.train.seed, []).append(member)
    bins: list[list[Member]] = [[] for _ in range(parts)]
    for bucket in sorted(by_seed.values(), key=len, reverse=True):
        min(bins, key=len).extend(bucket)  # the least loaded part takes the next seed
    even = -(-len(group.members) // parts)  # the largest part of the most even cut
    if len(by_seed) < parts or max(len(b) for b in bins) > even:
        size, extra = divmod(len(group.members), parts)
        bins, start = [], 0
        for i in range(parts):
            end = start + size + (1 if i < extra else 0)
            bins.append(list(group.members[start:end]))
            start = end
    order = {m.run_id: i for i, m in enumerate(group.members)}
    return [Group(tuple(sorted(b, key=lambda m: order[m.run_id]))) for b in bins if b]
