"""A class at the speed of one (issue 11): shared, merged and split work against the plain queue.

Each scenario runs a real server in this process (uvicorn, a SQLite file in a temp dir, warm
spawned workers) and times, from the first submission to the last run done:
1. sharing: 40 students click the same lesson (sharing on) vs one student alone on the same
   server kind (target <= 1.5x); every student's numbers must be the first student's;
2. merging: 40 students each run the lesson with their own init and batch seeds (same data set,
   so nothing can be shared) with waiting groups merged vs without merging or splitting ("today's
   scheduling"; target <= 0.7x);
3. splitting: one student alone runs the lesson at R = 5 on 2 idle workers vs on 1 worker
   (target <= 0.6x).

4. the merge curve: CPU seconds per member of one group of K of the lesson's runs.

BENCH_SCHEDULING_ONLY=sharing,merging,splitting,curve picks scenarios.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reglab.api.app import create_app
from reglab.config import Settings
from reglab.presets import get_lesson

from tests.support import FINAL, Api, start_uvicorn, wait_for

LESSON = "overfitting"
STUDENTS = 40


@dataclass(frozen=True)
class Timed:
    """One served try: from the first submission to an idle queue, and the CPU it took."""

    seconds: float
    experiments: list[dict[str, Any]]
    server_cpu: float  # this process: the server and the bench's own client
    worker_cpu: list[float]  # each worker that trained, most first


def _timed(students: list[dict[str, Any]], **settings: Any) -> Timed:
    """Serve, submit every body as its own student at once, and time until all finished."""
    with tempfile.TemporaryDirectory() as tmp:
        values: dict[str, Any] = {"database_url": f"sqlite:///{Path(tmp) / 'reglab.db'}"}
        values.update(settings)
        served = start_uvicorn(create_app(Settings(**values)))
        api = Api(served.url)
        try:
            workers = values.get("workers", 2)
            wait_for(lambda: api.http.get("/api/health").json()["workers_ready"] == workers, 120)
            for i in range(len(students)):
                api.identity(f"s{i}")  # names claimed before the clock starts
            workers_before, server = _cpu_of_children(), time.process_time()
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                created = list(
                    pool.map(lambda ib: api.submit(ib[1], user=f"s{ib[0]}"), enumerate(students))
                )

            def idle() -> bool:
                # The queue alone (one cheap request, at 5 Hz: each poll is work for the server
                # too). Every submission has returned, so an idle queue means every run is over:
                # a follower's final status is recorded with its computation's, before that
                # group settles. Checked below, after the clock: 40 experiment reads (0.6 s)
                # are the bench's work, not the class's.
                health = api.http.get("/api/health").json()
                return not (health["pending_groups"] or health["running_groups"])

            while not idle():
                time.sleep(0.2)
            took = time.perf_counter() - started
            server = time.process_time() - server
            spent = [c - workers_before.get(pid, 0.0) for pid, c in _cpu_of_children().items()]
            exps = [api.experiment(e["id"]) for e in created]
            unfinished = [r["id"] for e in exps for r in e["runs"] if r["status"] not in FINAL]
            if unfinished:
                raise AssertionError(f"the queue was idle with runs {unfinished} unfinished")
            busy = sorted((c for c in spent if c > 0.05), reverse=True)
            return Timed(took, exps, server, busy)
        finally:
            api.http.close()
            served.stop()


def _lesson(repeats: int | None = None, seed: int | None = None) -> dict[str, Any]:
    spec = copy.deepcopy(get_lesson(LESSON).spec.model_dump(mode="json"))
    if repeats is not None:
        spec["repeats"] = repeats
    if seed is not None:  # the student's own initial weights and batch order, the class's data
        spec["base"]["model"]["init_seed"] = seed
        spec["base"]["train"]["seed"] = seed
    return spec


def _verdict(ratio: float, target: float) -> str:
    return f"(target <= {target}x: {'ok' if ratio <= target else 'ABOVE TARGET'})"


def _finals(exp: dict[str, Any]) -> list[float]:
    return [r["summary"]["final_val_loss"] for r in exp["runs"]]


def main() -> None:
    picked = os.environ.get("BENCH_SCHEDULING_ONLY", "sharing,merging,splitting,curve").split(",")
    if "sharing" in picked:
        sharing()
    if "merging" in picked:
        merging()
    if "splitting" in picked:
        splitting()
    if "curve" in picked:
        merge_curve()


def _best(times: int, students: list[dict[str, Any]], **settings: Any) -> Timed:
    """The shortest of a few tries: a short run on a shared machine meets its noise whole."""
    return min((_timed(students, **settings) for _ in range(times)), key=lambda t: t.seconds)


def sharing() -> None:
    one = _best(3, [_lesson()], share_runs=True).seconds
    best = _best(3, [_lesson()] * STUDENTS, share_runs=True)  # the best of both: a noisy box
    many, exps = best.seconds, best.experiments
    same = all(_finals(e) == _finals(exps[0]) for e in exps)
    print(
        f"sharing: {STUDENTS} students, the same lesson {many:6.1f} s vs one alone {one:6.1f} s "
        f"= {many / one:4.2f}x {_verdict(many / one, 1.5)}; all the first's numbers: {same}",
        flush=True,
    )


def merging() -> None:
    """The lesson at R = 1 (6-member groups, where merging pays). As shipped, at R = 5, a
    student's group has 30 members, more than the merge cap (24): nothing is merged, and
    merging two such groups into 60 saved 2-8 % of their CPU (2 Dec), hence the cap."""
    own = [_lesson(repeats=1, seed=100 + i) for i in range(STUDENTS)]
    merged = _timed(own, share_runs=False, split_groups=False).seconds
    today = _timed(own, share_runs=False, split_groups=False, merge_group_size=1).seconds
    print(
        f"merging: {STUDENTS} students, own seeds, lesson at R=1: merged {merged:6.1f} s vs "
        f"today's queue {today:6.1f} s = {merged / today:4.2f}x {_verdict(merged / today, 0.7)}",
        flush=True,
    )


def merge_curve() -> None:
    """Where merging pays: CPU seconds per member of one lockstep group of K of the lesson's
    runs, each with its own seeds (as students' groups are), one torch thread, in this process."""
    import torch
    from reglab.spec import RunSpec
    from reglab.training.loop import train_group
    from reglab.training.plan import Group, Member

    torch.set_num_threads(1)
    base = get_lesson(LESSON).spec.members()[0].spec

    def member(i: int) -> Member:
        seeded = base.model_dump(mode="json")
        seeded["model"]["init_seed"] = seeded["train"]["seed"] = 1000 + i
        return Member(i, str(i), RunSpec.model_validate(seeded))

    for _ in train_group(Group((member(-1),))):  # first use: torch's lazy set-up
        pass
    costs = []
    for k in (1, 6, 12, 24, 30, 48, 60):
        group = Group(tuple(member(i) for i in range(k)))
        started = time.process_time()
        for _ in train_group(group):
            pass
        costs.append(f"K={k} {(time.process_time() - started) / k:.3f}")
    print(f"merge curve: CPU s per member of the lesson's runs: {', '.join(costs)}", flush=True)


def splitting() -> None:
    split = _best(2, [_lesson(repeats=5)], share_runs=False, workers=2)
    single = _best(2, [_lesson(repeats=5)], share_runs=False, workers=1).seconds
    ratio = split.seconds / single
    print(
        f"splitting: one student, R=5, 2 idle workers {split.seconds:6.1f} s vs 1 worker "
        f"{single:6.1f} s = {ratio:4.2f}x {_verdict(ratio, 0.6)}",
        flush=True,
    )
    # Where the split's time goes: with as many workers as cores, the server shares them.
    cores = (sum(split.worker_cpu) + split.server_cpu) / 2
    print(
        f"splitting, served: CPU s: workers {' + '.join(f'{c:.1f}' for c in split.worker_cpu)}, "
        f"server (with this bench's client) {split.server_cpu:.1f}; all of it over 2 cores "
        f"{cores:.1f} s",
        flush=True,
    )
    _split_alone()


def _cpu_of_children() -> dict[int, float]:
    """CPU seconds (user + system) of each live child of this process (the server's workers)."""
    kids: set[int] = set()
    for tasks in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        kids |= {int(pid) for pid in tasks.read_text().split()}
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in kids:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[pid] = (int(stat[11]) + int(stat[12])) / tick
    return out


def _train_part(part: Any) -> float:
    """Train one part of the lesson's group in this (spawned) process; its CPU seconds."""
    import torch
    from reglab.training.loop import train_bursts

    torch.set_num_threads(1)
    started = time.process_time()
    for _ in train_bursts(part):
        pass
    return time.process_time() - started


def _split_alone() -> None:
    """What the split itself gives: the lesson's two halves in two bare processes (no server)
    against the whole group in one."""
    import multiprocessing

    from reglab.spec import ExperimentSpec
    from reglab.training.plan import Member, plan, split

    spec = ExperimentSpec.model_validate(_lesson(repeats=5))
    (group,) = plan([Member(i, p.name, p.spec) for i, p in enumerate(spec.members())])
    halves = split(group, 2)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_train_part, halves)  # warm: torch's first-use costs
        started = time.perf_counter()
        whole = pool.apply(_train_part, (group,))
        alone = time.perf_counter() - started
        started = time.perf_counter()
        parts = pool.map(_train_part, halves)
        apart = time.perf_counter() - started
    print(
        f"splitting, training alone (no server): halves in 2 processes {apart:5.1f} s "
        f"(CPU {' + '.join(f'{c:.1f}' for c in parts)} s) vs whole in 1 {alone:5.1f} s "
        f"(CPU {whole:.1f} s) = {apart / alone:4.2f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
