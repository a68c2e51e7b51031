"""A lesson at R = 5 repeats vs R = 1, and vs the same runs as bare PyTorch loops, one by one.

What a worker does with a repeated lesson: its runs (variants × replicates) planned into lockstep
groups and trained group after group, one thread. The bare side trains each of the R = 5 lesson's
runs as `bench.engine.bare_loop` (nn.Sequential + torch.optim.Adam, evaluation every epoch; no
regularizers, so it does less work than the lesson's runs). Target: R = 5 well under 5× R = 1.
Times are the process's CPU seconds: training is one thread, so they are its cost even on a
machine busy with other work (wall time there says more about the neighbours).
"""

from __future__ import annotations

import time

import torch
from reglab.presets import get_lesson
from reglab.spec import ExperimentSpec
from reglab.training.datasets import make_dataset
from reglab.training.loop import train_group
from reglab.training.plan import Member, plan

from bench.engine import bare_loop

LESSON = "overfitting"


def _members(spec: ExperimentSpec) -> list[Member]:
    return [Member(i, p.name, p.spec) for i, p in enumerate(spec.members())]


def _engine(spec: ExperimentSpec) -> float:
    started = time.process_time()
    for group in plan(_members(spec)):
        for _ in train_group(group):
            pass
    return time.process_time() - started


def _bare(spec: ExperimentSpec) -> float:
    started = time.process_time()
    runs = spec.members()
    data = make_dataset(runs[0].spec.data)
    for planned in runs:
        bare_loop(data, planned.spec)
    return time.process_time() - started


def main() -> None:
    torch.set_num_threads(1)
    lesson = get_lesson(LESSON).spec
    one, five = (lesson.model_copy(update={"repeats": r}) for r in (1, 5))
    _engine(one)  # warm-up: first-call costs (allocator, torch's lazy imports)
    t1 = min(_engine(one) for _ in range(2))
    t5 = min(_engine(five) for _ in range(2))
    bare = _bare(five)
    runs = len(five.members())
    print(f"lesson {LESSON!r}: {len(lesson.runs())} variants, 1 thread, CPU seconds, best of 2")
    ratio = t5 / t1
    verdict = "ok" if ratio <= 3.5 else "ABOVE TARGET"
    print(
        f"R=1 {t1:6.2f} s   R=5 {t5:6.2f} s   R=5 / R=1 {ratio:4.2f}x  "
        f"(target well under 5x, <= 3.5x: {verdict})"
    )
    print(
        f"{runs} bare loops (no regularizers) {bare:6.2f} s   "
        f"bare / engine at R=5 {bare / t5:4.2f}x  (> 1: the engine is faster)",
        flush=True,
    )


if __name__ == "__main__":
    main()
