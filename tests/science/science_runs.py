"""Run lessons and specs for the science tests: real training, fixed seeds, events by run."""

import functools
import os
import time
from dataclasses import dataclass, field
from typing import Any

from reglab.events import EpochEvent, SnapshotEvent, SummaryEvent
from reglab.presets import get_lesson
from reglab.spec import ExperimentSpec, RunSpec
from reglab.training.loop import train_group
from reglab.training.plan import Member, plan

# The seed settings the lesson claims are checked on: `make test` checks 0 (the lessons as
# shipped) and two others; `make science` sets REGLAB_SCIENCE_SEEDS=0-8 and checks all nine.
DEFAULT_SEEDS = "0,3,6"


def science_seeds() -> list[int]:
    """The seed settings named by REGLAB_SCIENCE_SEEDS: '0-8', '0,3,6' or a mix of both."""
    seeds: list[int] = []
    for part in os.environ.get("REGLAB_SCIENCE_SEEDS", DEFAULT_SEEDS).split(","):
        lo, _, hi = part.strip().partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


@dataclass
class Run:
    name: str
    summary: SummaryEvent | None = None
    epochs: list[EpochEvent] = field(default_factory=list)
    # From the histogram snapshots: epoch → mean |w| of the weights that started in the
    # smallest, middle and largest third by size (epoch 0: at initialization).
    by_third: dict[int, list[float]] = field(default_factory=dict)


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
            elif isinstance(event, SnapshotEvent) and event.kind == "histogram":
                run = runs[event.run_id]
                run.by_third.setdefault(0, event.data["by_third_start"])
                run.by_third[event.epoch] = event.data["by_third"]
    return {run.name: run for run in runs.values()}


def lesson_at(name: str, seed: int) -> ExperimentSpec:
    """The lesson as shipped (variants, repeats and all) on seed setting `seed`: data.seed =
    model.init_seed = train.seed = seed in its base. Seed setting 0 is the lesson as shipped."""
    spec = get_lesson(name).spec
    base = reseed(spec.base, seed)
    return ExperimentSpec.model_validate(spec.model_dump() | {"base": base.model_dump()})


@dataclass
class LessonRuns:
    """Every run of one lesson on one seed setting: per variant, its replicates in order."""

    variants: dict[str, list[Run]]
    seconds: float  # wall time of the training, all groups together
    cpu_seconds: float  # this process's CPU time for it: the wall time on an idle core


@functools.cache
def train_lesson(name: str, seed: int) -> LessonRuns:
    """Train the lesson at seed setting `seed` as the service would (cached per process, so the
    claims of one lesson share one training)."""
    planned = lesson_at(name, seed).members()
    started, cpu = time.perf_counter(), time.process_time()
    named = run_specs([(f"{p.variant}\x00{p.replicate}", p.spec) for p in planned])
    variants: dict[str, list[Run]] = {}
    for p in planned:
        variants.setdefault(p.variant, []).append(named[f"{p.variant}\x00{p.replicate}"])
    return LessonRuns(variants, time.perf_counter() - started, time.process_time() - cpu)
