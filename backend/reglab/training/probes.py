"""Diagnostics of a lockstep group: weight norms, sparsity, gradient norms, steps and snapshots.

Everything is computed for all K members at once, under no_grad, and turned into plain Python
(lists of floats, rounded) only at the edge, so that events stay small and JSON-friendly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from reglab.shapes import CURVE_POINTS, GRID
from reglab.training.models import Net, predict

# Fixed histogram bins, the same for every run and epoch so pictures compare: 81 bins of 0.05
# over [-2.025, 2.025], one centred on 0 (L1's spike), plus counts below and above the range.
HIST_EDGES: list[float] = [round(-2.025 + 0.05 * i, 3) for i in range(82)]
_EDGES = torch.tensor(HIST_EDGES)
MAX_POINTS = 500  # data points sent once per run with the first boundary / curve snapshot


def sig(values: Tensor | Sequence[float], digits: int = 4) -> list[float]:
    """Floats rounded to `digits` significant digits (keeps snapshots small), as a flat list.

    A float32 tensor is rounded whole, not one float at a time through the formatter (a
    snapshot's 1,600 grid cells that way were 7 % of a lesson's training), to the formatter's
    numbers exactly: a float32 times 10^e (e <= 12) is exact in float64, so rounding it half to
    even is the formatter's correct rounding, and dividing by 10^e then gives the double nearest
    the decimal, as parsing its text does; dividing by 10^e (e <= 22, values with more than
    `digits` integer digits) cannot move a quotient across a tie that a float32 is not exactly
    on. Values outside those ranges (below about 1e-9: saturated probabilities far from the
    data), and other dtypes, go through the formatter.
    """
    if not isinstance(values, Tensor) or values.dtype != torch.float32:
        data = values.flatten().tolist() if isinstance(values, Tensor) else values
        return [float(f"{v:.{digits}g}") for v in data]
    x = values.detach().flatten().double()
    scale = digits - 1 - torch.floor(torch.log10(x.abs()))  # -inf at 0, NaN at NaN
    fast = (scale >= -22) & (scale <= 12)
    power = torch.pow(10.0, torch.where(fast, scale, 0.0).abs())
    out = torch.where(scale >= 0, torch.round(x * power) / power, torch.round(x / power) * power)
    result: list[float] = torch.where(fast, out, x).tolist()  # 0, ±inf and NaN as they are
    for i in (~fast & (x != 0) & torch.isfinite(x)).nonzero().flatten().tolist():
        result[i] = float(f"{result[i]:.{digits}g}")
    return result


@torch.no_grad()
def weight_stats(weights: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """Each member's Σ|w|, √Σw² and share of weights exactly 0 (biases excluded): three (K,)."""
    l1 = torch.zeros(weights[0].shape[0])
    sq = torch.zeros_like(l1)
    zeros = torch.zeros_like(l1)
    count = 0
    for w in weights:
        flat = w.detach().flatten(1)  # (K, in·out)
        l1 += flat.abs().sum(dim=1)
        sq += flat.square().sum(dim=1)
        zeros += (flat == 0).sum(dim=1)
        count += flat.shape[1]
    return l1, sq.sqrt(), zeros / count


class GradMeter:
    """Per-layer L2 norm of the weights' data-loss gradient, averaged over the updates it is
    given: the loop gives it the same few sampled updates per epoch as the StepMeter."""

    def __init__(self, layers: int, members: int) -> None:
        self._sum = torch.zeros(layers, members)
        self._updates = 0

    @torch.no_grad()
    def add(self, weights: Sequence[Tensor]) -> None:
        norms = [
            torch.linalg.vector_norm(w.grad, dim=(1, 2)) for w in weights if w.grad is not None
        ]
        self._sum += torch.stack(norms)  # (L, K)
        self._updates += 1

    def take(self) -> Tensor:
        """The epoch's mean norms (K, L), and a fresh start for the next epoch."""
        mean = (self._sum / max(self._updates, 1)).T.contiguous()
        self._sum.zero_()
        self._updates = 0
        return mean


class StepMeter:
    """The effective step: mean |Δw| over all weights in one update, per member.

    Averaged over up to SAMPLES updates spread evenly over the epoch: copying every weight at
    every update would cost the hot path more than all the other probes together.
    """

    SAMPLES = 8

    def __init__(self, members: int) -> None:
        self._before: list[Tensor] = []
        self._sum = torch.zeros(members)
        self._count = 0

    @staticmethod
    def sampled(updates: int) -> set[int]:
        """Which of an epoch's updates (0-based) to measure."""
        n = min(updates, StepMeter.SAMPLES)
        return {(i * updates) // n + (updates // n) - 1 for i in range(n)}

    @torch.no_grad()
    def before(self, weights: Sequence[Tensor]) -> None:
        # Copied into buffers kept from one sample to the next: a fresh copy of a wide net's
        # weights costs more than the copying (new memory is faulted in page by page).
        if [b.shape for b in self._before] != [w.shape for w in weights]:
            self._before = [
                torch.empty_like(w, memory_format=torch.contiguous_format) for w in weights
            ]
        for b, w in zip(self._before, weights, strict=True):
            b.copy_(w)

    @torch.no_grad()
    def after(self, weights: Sequence[Tensor]) -> None:
        total = torch.zeros_like(self._sum)
        count = 0
        for w, old in zip(weights, self._before, strict=True):
            # Δw into the copy's own memory, then Σ|Δw| as an L1 norm: one pass each.
            delta = torch.sub(w.detach(), old, out=old).flatten(1)  # (K, n)
            total += torch.linalg.vector_norm(delta, ord=1, dim=1)
            count += old[0].numel()
        self._sum += total / count
        self._count += 1

    def take(self) -> Tensor:
        """The epoch's mean |Δw| per update (K,), and a fresh start."""
        mean = self._sum / max(self._count, 1)
        self._sum = torch.zeros_like(self._sum)
        self._count = 0
        return mean


@torch.no_grad()
def histograms(weights: Sequence[Tensor]) -> list[dict[str, Any]]:
    """Per member, the weight histogram of each layer over the fixed HIST_EDGES."""
    k = weights[0].shape[0]
    bins = len(HIST_EDGES) - 1
    layers = []
    for w in weights:
        # (K, n); contiguous because the optimizer keeps a member's weights beside its others.
        flat = w.detach().flatten(1).contiguous()
        # bucketize gives 0 below the first edge and bins + 1 above the last.
        idx = torch.bucketize(flat, _EDGES, right=True)
        counts = torch.zeros(k, bins + 2).scatter_add_(1, idx, torch.ones_like(flat))
        zeros = (flat == 0).sum(dim=1)
        layers.append((counts.long().tolist(), zeros.tolist()))
    return [
        {
            "edges": HIST_EDGES,
            "layers": [
                {
                    "layer": i,
                    "counts": counts[m][1:-1],
                    "below": counts[m][0],
                    "above": counts[m][-1],
                    "zeros": zeros[m],
                }
                for i, (counts, zeros) in enumerate(layers)
            ],
        }
        for m in range(k)
    ]


def _axis(lo: float, hi: float, n: int) -> Tensor:
    return torch.linspace(lo, hi, n)


@torch.no_grad()
def boundaries(net: Net, x_range: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """Per member, its predictions on a GRID × GRID grid over a 2-D input range.

    Binary: "p" is the probability of class 1; multiclass: "label" is the predicted class and
    "p" its probability. Rows follow "y", columns follow "x" (as a heatmap reads them).
    """
    xs, ys = _axis(*x_range[0], GRID), _axis(*x_range[1], GRID)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (G², 2)
    prob = predict(net, points)  # (K, G², out)
    x, y = sig(xs), sig(ys)
    if prob.shape[2] == 1:
        p, labels = prob[:, :, 0], None
    else:
        p, label = prob.max(dim=2)
        labels = label.view(net.size, GRID, GRID).tolist()
    cells = sig(p, 3)  # every member's grid, rounded at once
    out = []
    for m in range(net.size):
        rows = [cells[(m * GRID + r) * GRID : (m * GRID + r + 1) * GRID] for r in range(GRID)]
        data: dict[str, Any] = {"x": list(x), "y": list(y), "p": rows}
        if labels is not None:
            data["label"] = labels[m]
        out.append(data)
    return out


@torch.no_grad()
def curves(net: Net, x_range: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """Per member, its fitted function on CURVE_POINTS inputs over a 1-D range."""
    xs = _axis(*x_range[0], CURVE_POINTS)
    pred = predict(net, xs[:, None])  # (K, P, 1)
    return [{"x": sig(xs), "y": sig(pred[m, :, 0])} for m in range(net.size)]


def points(x: Tensor, y: Tensor) -> dict[str, Any]:
    """Up to MAX_POINTS data points, as columns: x1 (x2) and y (label or target)."""
    x, y = x[:MAX_POINTS], y[:MAX_POINTS].flatten()
    cols: dict[str, Any] = {f"x{i + 1}": sig(x[:, i]) for i in range(x.shape[1])}
    cols["y"] = y.tolist() if not y.is_floating_point() else sig(y)
    return cols


def know_nothing_loss(y: Tensor, task: str) -> float:
    """The training loss of a net that has learnt only the targets' frequencies or mean: the
    label entropy for classification (ln 2 for two balanced classes), the targets' variance for
    regression. The diagnosis measures "still high" against it."""
    if task == "regression":
        return float(y.double().var(unbiased=False))
    labels = y.reshape(-1).long()
    p = torch.bincount(labels).double() / labels.numel()
    p = p[p > 0]
    return float(-(p * p.log()).sum())


@torch.no_grad()
def size_thirds(weights: Sequence[Tensor]) -> Tensor:
    """Each weight's third by its size |w| now, per member: (K, n) of 0 (smallest third), 1, 2.

    Taken at initialization, it lets a run show how weights that started small, middling or
    large shrink under L1 and L2 (the lecture: L1 subtracts a fixed amount, L2 a fixed share)."""
    flat = torch.cat([w.detach().flatten(1) for w in weights], dim=1).abs()  # (K, n)
    rank = flat.argsort(dim=1).argsort(dim=1)  # each weight's rank by |w| within its member
    return (rank * 3) // flat.shape[1]


@torch.no_grad()
def mean_by_third(weights: Sequence[Tensor], thirds: Tensor) -> list[list[float]]:
    """Per member, the mean |w| of the weights in each third of `size_thirds` (three floats)."""
    flat = torch.cat([w.detach().flatten(1) for w in weights], dim=1).abs()
    sums = torch.zeros(flat.shape[0], 3, dtype=flat.dtype).scatter_add_(1, thirds, flat)
    counts = torch.zeros_like(sums).scatter_add_(1, thirds, torch.ones_like(flat))
    return [sig(row) for row in (sums / counts).tolist()]
