"""What a group will cost before it runs: peak memory, one worker's time, and bytes stored.

The scheduler admits an experiment only when every one of its groups fits the server's limits
(`Settings.max_group_memory_gb`, `max_group_seconds`, `max_snapshots_per_run`), so that one
student's spec cannot take the machine. The numbers are estimates from the shapes alone (no
torch here: reglab/shapes.py has the sizes a worker will build): members × parameters × batch
× pieces × epochs × steps, with evaluation and snapshots counted. Their constants were fitted to
peak RSS and wall time measured on a 2-core machine (bench/cost.py prints estimate against
measurement); the worker's hard memory cap (see local.py) catches what an estimate misses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reglab import shapes
from reglab.metrics import METRICS, Metric
from reglab.spec import CLASSIFICATION_2D, RunSpec

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
# Per update, the engine's Python and small ops cost about this much whatever the sizes.
_STEP_OVERHEAD_S = 4e-4
_EPOCH_OVERHEAD_S = 3e-3
# What the store keeps per run-epoch: the metric row and its event-log entry. Each declared
# metric (reglab/metrics.py) is kept twice: a REAL in its column (9 bytes) and its key and
# value as JSON text in the log (a float's shortest repr, ~19 bytes with its comma); a
# per-layer one that for each layer. The row's and the entry's keys, the "type", the sequence
# number and the indexes' entries come on top (_ENTRY_BYTES: what the measurement leaves after
# today's metrics). Measured on SQLite pages here: 612 bytes per run-epoch of a 3-layer net,
# one run alone or 8 interleaved; admission counts twice that, the headroom of the measured
# constant this replaces (1,200).
_VALUE_BYTES = 9 + 19
_ENTRY_BYTES = 127
_HEADROOM = 2
_TYPICAL_LAYERS = 3


def epoch_bytes(layers: int = _TYPICAL_LAYERS, metrics: Sequence[Metric] = METRICS) -> int:
    """What the store keeps, with headroom, for one epoch of one run of a net of `layers`."""
    values = sum(len(m.name) + 3 + _VALUE_BYTES * (layers if m.per_layer else 1) for m in metrics)
    return _HEADROOM * (_ENTRY_BYTES + values)


# A stored epoch of a typical net: what the scheduler counts for each epoch a user has stored.
EPOCH_BYTES = epoch_bytes()
# ... and per snapshot, measured.
HISTOGRAM_BYTES = 1_500
BOUNDARY_BYTES = 12_600
POINTS_BYTES = 12_000
# A dropout-ensemble snapshot, at most: ten pictures of the plane (the scaled net, 3 thinned
# nets, 5 averages, a linear net's exact average), each cell a probability to 3 significant
# digits in at most 10 characters ("1.23e-05,"), and 4 KB of axes and losses by N. The lesson
# stored 112,219 to 116,845 bytes a snapshot, its cells mostly "0.123,".
ENSEMBLE_BYTES = 10 * shapes.GRID**2 * 10 + 4_000


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
    return shapes.inputs_outputs(spec.data)


def layers(spec: RunSpec) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each weight matrix; a maxout layer has units × pieces outputs."""
    n_in, n_out = shape(spec)
    return shapes.layer_shapes(n_in, spec.model.hidden, n_out, shapes.pieces_of(spec.model))


def split_sizes(spec: RunSpec) -> tuple[int, int]:
    """(training, validation + test + public test) examples, as datasets.py splits them."""
    n_train, n_val, n_test = shapes.split_sizes(spec.data)
    return n_train, n_val + n_test + spec.data.public_test


def estimate(specs: Sequence[RunSpec], *, gflops: float) -> Cost:
    """The cost of training these runs as one lockstep group (they share a group key)."""
    first = specs[0]
    k = len(specs)
    weights = layers(first)
    params = sum(a * b + b for a, b in weights)  # one member's
    macs = sum(a * b for a, b in weights)  # one example through one member
    outputs = sum(b for _, b in weights)  # activations of one example, all layers
    pieces = shapes.pieces_of(first.model)
    widest = max(b for _, b in weights)
    n_train, n_held = split_sizes(first)
    batch = min(first.train.batch_size, n_train)
    epochs = max(s.train.epochs for s in specs)
    steps_per_epoch = math.ceil(n_train / batch)

    # Memory: parameters and their copies, one update's activations, evaluation's chunks, a
    # snapshot's grid through every member at once, and the data.
    per_unit = _PIECE_BYTES if pieces > 1 else _UNIT_BYTES
    train_act = k * batch * outputs * per_unit
    eval_act = 3 * shapes.EVAL_FLOATS * _F
    grid = shapes.GRID**2 if first.data.kind in CLASSIFICATION_2D else shapes.CURVE_POINTS
    snap_act = 2 * k * grid * widest * _F
    # A thinned-nets snapshot (one member at a time): a chunk's activations and every thinned
    # net's output at every point of the plane and the validation set.
    thinning = [s for s in specs if s.train.thinned_nets]
    n_val = shapes.split_sizes(first.data)[1]
    thinned_points = shapes.GRID**2 + n_val
    thinned_act = (2 * shapes.EVAL_FLOATS + shapes.THINNED_NETS * thinned_points) * _F
    snap_act = max(snap_act, thinned_act if thinning else 0)
    data = (n_train + n_held) * (shape(first)[0] + 2) * _F
    parameter_bytes = k * params * _F * _PARAM_COPIES
    memory = parameter_bytes + max(train_act, eval_act, snap_act) + data + _SLACK

    # Time: forward + backward ≈ 3 × the forward's 2 flops per multiply-add; evaluation of
    # every training and held-out example each epoch; snapshots; the optimizer's passes.
    train_flops = 6 * k * macs * n_train
    eval_flops = 2 * k * macs * (n_train + n_held)
    opt_flops = 20 * k * params * steps_per_epoch
    snaps = max(_snapshots(s) for s in specs)
    snap_flops = 2 * k * macs * grid * snaps
    snap_flops += sum(
        2 * macs * (shapes.THINNED_NETS + 1) * thinned_points * _snapshots(s) for s in thinning
    )
    flops = (train_flops + eval_flops + opt_flops) * epochs + snap_flops
    overhead = epochs * (steps_per_epoch * _STEP_OVERHEAD_S + _EPOCH_OVERHEAD_S)
    seconds = flops / (gflops * 1e9) + overhead

    picture = BOUNDARY_BYTES if first.data.kind in CLASSIFICATION_2D else 0
    stored = sum(
        s.train.epochs * epoch_bytes(len(weights))
        + _snapshots(s) * (HISTOGRAM_BYTES + picture)
        + (POINTS_BYTES if picture else 0)
        for s in specs
    ) + sum(_snapshots(s) * ENSEMBLE_BYTES for s in thinning)
    return Cost(k, int(memory), parameter_bytes, seconds, int(stored), snaps)


def _snapshots(spec: RunSpec) -> int:
    """The snapshots of each kind a run takes at most: every snapshot_every epochs, and one
    at the start or the end."""
    return math.ceil(spec.train.epochs / spec.train.snapshot_every) + 1


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
