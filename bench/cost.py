"""Admission estimates against measurement: a group's peak memory and time, estimated and real.

Each size trains in a fresh process (one torch thread, warmed up as a worker is), which reports
its peak RSS above the warm baseline (ru_maxrss) and its wall time; the estimate is
reglab.jobs.cost's. Sizes are kept to what this machine trains in seconds: a few epochs, and
the per-epoch time extrapolates.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from reglab.config import Settings
from reglab.jobs.cost import estimate, human_bytes
from reglab.spec import RunSpec

# (label, members, run spec fields)
SIZES: list[tuple[str, int, dict[str, Any]]] = [
    ("moons 64-64, K=8, batch 32", 8, {"train": {"epochs": 3}}),
    (
        "moons 8x128 relu, K=16, batch 256",
        16,
        {
            "data": {"n_train": 4000},
            "model": {"hidden": [128] * 8},
            "train": {"epochs": 2, "batch_size": 256},
        },
    ),
    (
        "digits 256-256, K=32, batch 64",
        32,
        {
            "data": {"kind": "digits", "n_train": 1000},
            "model": {"hidden": [256, 256]},
            "train": {"epochs": 2, "batch_size": 64},
        },
    ),
    (
        "moons 4x512 maxout8, K=1, batch 4096",
        1,
        {
            "data": {"n_train": 4096},
            "model": {"hidden": [512] * 4, "activation": "maxout", "maxout_pieces": 8},
            "train": {"epochs": 1, "batch_size": 4096},
        },
    ),
    (
        "moons 8x512 maxout8, K=1, batch 4096",
        1,
        {
            "data": {"n_train": 4096},
            "model": {"hidden": [512] * 8, "activation": "maxout", "maxout_pieces": 8},
            "train": {"epochs": 1, "batch_size": 4096},
        },
    ),
]


def child(spec_json: str, members: int) -> None:
    """In a fresh process: warm up as a worker does, then train and print peak RSS and time."""
    import resource

    import torch
    from reglab.training.loop import train_group
    from reglab.training.plan import Group, Member

    torch.set_num_threads(1)
    spec = RunSpec.model_validate_json(spec_json)
    warm = RunSpec.model_validate({"data": {"n_train": 20}, "model": {"hidden": [4]}})
    warm = warm.model_copy(update={"train": warm.train.model_copy(update={"epochs": 1})})
    for _ in train_group(Group((Member(-1, "w", warm),))):
        pass
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    group = Group(
        tuple(
            Member(
                i,
                str(i),
                spec.model_copy(update={"model": spec.model.model_copy(update={"init_seed": i})}),
            )
            for i in range(members)
        )
    )
    for _ in train_group(group):
        pass
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"delta": (peak - base) * 1024, "seconds": seconds}))


def measure(spec: RunSpec, members: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.cost", "--child", spec.model_dump_json(), str(members)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    gflops = Settings(_env_file=None).worker_gflops  # type: ignore[call-arg]
    print(f"{'size':40} {'est. memory':>12} {'measured':>10} {'est. time':>10} {'measured':>9}")
    for label, members, fields in SIZES:
        spec = RunSpec.model_validate(fields)
        cost = estimate([spec] * members, gflops=gflops)
        real = measure(spec, members)
        print(
            f"{label:40} {human_bytes(cost.memory_bytes):>12} {human_bytes(real['delta']):>10} "
            f"{cost.seconds:>9.2f}s {real['seconds']:>8.2f}s",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
