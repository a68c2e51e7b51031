"""Run lessons and specs for the science tests: real training, fixed seeds, events by run."""

from dataclasses import dataclass, field
from typing import Any

from reglab.events import EpochEvent, SummaryEvent
from reglab.presets import get_lesson
from reglab.spec import RunSpec
from reglab.training.loop import train_group
from reglab.training.plan import Member, plan


@dataclass
class Run:
    name: str
    summary: SummaryEvent | None = None
    epochs: list[EpochEvent] = field(default_factory=list)


def reseed(spec: RunSpec, seed: int, epochs: int | None = None) -> RunSpec:
    """The same run on another draw of data, initial weights and batch order."""
    train: dict[str, Any] = {"seed": seed} | ({"epochs": epochs} if epochs else {})
    return spec.model_copy(
        update={
            "data": spec.data.model_copy(update={"seed": seed}),
            "model": spec.model.model_copy(update={"init_seed": seed}),
            "train": spec.train.model_copy(update=train),
        }
    )


def run_specs(named: list[tuple[str, RunSpec]]) -> dict[str, Run]:
    members = [Member(i, name, spec) for i, (name, spec) in enumerate(named)]
    runs = {m.run_id: Run(m.name) for m in members}
    for group in plan(members):
        for event in train_group(group):
            if isinstance(event, EpochEvent):
                runs[event.run_id].epochs.append(event)
            elif isinstance(event, SummaryEvent):
                runs[event.run_id].summary = event
    return {run.name: run for run in runs.values()}


def run_lesson(name: str, seed: int = 0, epochs: int | None = None) -> dict[str, Run]:
    return run_specs([(n, reseed(s, seed, epochs)) for n, s in get_lesson(name).spec.runs()])
