"""What a group will cost before it runs: peak memory, one worker's time, and bytes stored.

The scheduler admits an experiment only when every one of its groups fits the server's limits
(`Settings.max_group_memory_gb`, `max_group_seconds`, `max_snapshots_per_run`), so that one
student's spec cannot take the machine. The numbers are estimates from the shapes alone (no
torch here): members × parameters × batch × pieces × epochs × steps, with evaluation and
snapshots counted. Their constants were fitted to peak RSS and wall time measured on a 2-core
machine (bench/cost.py prints estimate against measurement); the worker's hard memory cap
(see local.py) catches what an estimate misses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from reglab.spec import CLASSIFICATION_2D, REGRESSION_1D, RunSpec

# Bytes of one float32.
_F = 4
# Copies of every parameter a group keeps: weights, gradients, the best epoch's copy, the
# step probe's copy, and up to two optimizer states (Adam's moments).
_PARAM_COPIES = 6
# Bytes autograd keeps per unit of a layer's output during one update: pre-activation,
# activation and their gradients; a maxout layer's pieces keep less each (the max's input, its
# gradient while backward frees as it goes, and the index and output per unit amortized).
_UNIT_BYTES = 16
_PIECE_BYTES = 7
# The allocator's slack and the interpreter's own growth while a group trains.
_SLACK = 64 << 20
# Evaluation works in chunks of about this many floats (training/models.py).
_EVAL_FLOATS = 1 << 22
GRID_POINTS = 40 * 40  # a decision-boundary snapshot's grid (training/probes.py)
CURVE_POINTS = 120
# Per update, the engine's Python and small ops cost about this much whatever the sizes.
_STEP_OVERHEAD_S = 4e-4
_EPOCH_OVERHEAD_S = 3e-3
# What the store keeps per run-epoch (metric row + event log) and per snapshot, measured.
EPOCH_BYTES = 1_200
HISTOGRAM_BYTES = 1_500
BOUNDARY_BYTES = 12_600
POINTS_BYTES = 12_000


@dataclass(frozen=True, slots=True)
class Cost:
    """A group's estimated needs."""

    members: int
    memory_bytes: int  # peak memory of the group's training, on top of a warm worker
    parameter_bytes: int  # of which the members' parameters and their copies
    seconds: float  # one worker's wall time, at `gflops` per second
    stored_bytes: int  # what its epochs and snapshots will take in the store
    snapshots_per_run: int  # of the run that takes the most


def shape(spec: RunSpec) -> tuple[int, int]:
    """(inputs, outputs) of the network this spec trains, without building its data."""
    d = spec.data
    if d.kind in REGRESSION_1D:
        return 1, 1
    if d.kind == "digits":
        return 64, 10
    if d.kind in CLASSIFICATION_2D and d.task == "multiclass":
        return 2, d.classes
    return 2, 1


def layers(spec: RunSpec) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each weight matrix; a maxout layer has units × pieces outputs."""
    n_in, n_out = shape(spec)
    pieces = spec.model.maxout_pieces if spec.model.activation == "maxout" else 1
    widths = [n_in, *spec.model.hidden]
    hidden = [(a, b * pieces) for a, b in itertools.pairwise(widths)]
    return [*hidden, (widths[-1], n_out)]


def split_sizes(spec: RunSpec) -> tuple[int, int]:
    """(training, validation + test) examples, as datasets.py splits them."""
    d = spec.data
    total = d.n_train / (1 - d.val_fraction - d.test_fraction)
    held = round(total - d.n_train) + d.public_test
    if d.private_test:  # a challenge's test split has the size it names
        held += d.private_test - round(total * d.test_fraction)
    return d.n_train, held


def estimate(specs: Sequence[RunSpec], *, gflops: float) -> Cost:
    """The cost of training these runs as one lockstep group (they share a group key)."""
    first = specs[0]
    k = len(specs)
    shapes = layers(first)
    params = sum(a * b + b for a, b in shapes)  # one member's
    macs = sum(a * b for a, b in shapes)  # one example through one member
    outputs = sum(b for _, b in shapes)  # activations of one example, all layers
    pieces = first.model.maxout_pieces if first.model.activation == "maxout" else 1
    widest = max(b for _, b in shapes)
    n_train, n_held = split_sizes(first)
    batch = min(first.train.batch_size, n_train)
    epochs = max(s.train.epochs for s in specs)
    steps_per_epoch = math.ceil(n_train / batch)

    # Memory: parameters and their copies, one update's activations, evaluation's chunks, a
    # snapshot's grid through every member at once, and the data.
    per_unit = _PIECE_BYTES if pieces > 1 else _UNIT_BYTES
    train_act = k * batch * outputs * per_unit
    eval_act = 3 * _EVAL_FLOATS * _F
    grid = GRID_POINTS if first.data.kind in CLASSIFICATION_2D else CURVE_POINTS
    snap_act = 2 * k * grid * widest * _F
    data = (n_train + n_held) * (shape(first)[0] + 2) * _F
    parameter_bytes = k * params * _F * _PARAM_COPIES
    memory = parameter_bytes + max(train_act, eval_act, snap_act) + data + _SLACK

    # Time: forward + backward ≈ 3 × the forward's 2 flops per multiply-add; evaluation of
    # every training and held-out example each epoch; snapshots; the optimizer's passes.
    train_flops = 6 * k * macs * n_train
    eval_flops = 2 * k * macs * (n_train + n_held)
    opt_flops = 20 * k * params * steps_per_epoch
    snaps = max(math.ceil(s.train.epochs / s.train.snapshot_every) + 1 for s in specs)
    snap_flops = 2 * k * macs * grid * snaps
    flops = (train_flops + eval_flops + opt_flops) * epochs + snap_flops
    overhead = epochs * (steps_per_epoch * _STEP_OVERHEAD_S + _EPOCH_OVERHEAD_S)
    seconds = flops / (gflops * 1e9) + overhead

    picture = BOUNDARY_BYTES if first.data.kind in CLASSIFICATION_2D else 0
    stored = sum(
        s.train.epochs * EPOCH_BYTES
        + (math.ceil(s.train.epochs / s.train.snapshot_every) + 1) * (HISTOGRAM_BYTES + picture)
        + (POINTS_BYTES if picture else 0)
        for s in specs
    )
    return Cost(k, int(memory), parameter_bytes, seconds, int(stored), snaps)


def human_bytes(n: float) -> str:
    """1.2 GB, 340 MB, 12 KB: decimal units, two significant digits."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.2g} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(n)} bytes"


def human_seconds(s: float) -> str:
    """45 s, 12 min, 3.5 hours, 40 days, 2.1 years."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("min", 60)):
        if s >= size:
            value = s / size
            return f"{value:.2g} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{s:.0f} s"
