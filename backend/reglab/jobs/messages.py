"""What a local worker tells its pool: small typed messages, pickled over the worker's own pipe.

A worker says `Ready` once it has warmed up, `Events` as training says them, and `Done` once per
group, after that group's last `Events`. How a group failed travels as a typed `Failure`; the
pool turns it into the one sentence the executor contract hands the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

from reglab.events import Event
from reglab.jobs.cost import human_bytes


@dataclass(frozen=True, slots=True)
class Ready:
    """The worker has warmed up and takes groups from now on."""


@dataclass(frozen=True, slots=True)
class Events:
    """Events of one group, in the order training yielded them (one burst or several)."""

    group_id: str
    events: list[Event]


@dataclass(frozen=True, slots=True)
class OutOfMemory:
    """The group needed more memory than the worker could get (its cap, or the machine's)."""

    cap: int | None  # the worker's address-space cap in bytes; None where none was set
    detail: str  # the first line of what the allocator said

    def sentence(self) -> str:
        where = f"the worker's memory cap ({human_bytes(self.cap)})" if self.cap else None
        return (
            f"This group needed more memory than {where or 'the memory it could get'}, which "
            "its estimate did not foresee; use a smaller batch_size, narrower layers or fewer "
            f"variants. ({self.detail})"
        )


@dataclass(frozen=True, slots=True)
class TrainingError:
    """Training raised: the exception's type name and text (the worker itself goes on)."""

    kind: str
    text: str

    def sentence(self) -> str:
        return f"{self.kind}: {self.text}"


Failure = OutOfMemory | TrainingError


@dataclass(frozen=True, slots=True)
class Done:
    """The group is over: it returned normally (`failure` None) or failed."""

    group_id: str
    failure: Failure | None = None


WorkerMessage = Ready | Events | Done
