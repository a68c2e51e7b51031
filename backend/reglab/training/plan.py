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
