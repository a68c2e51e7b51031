"""Dropout as an average of thinned nets: a dropout member's scaled net against its thinned nets.

The lecture: dropout trains many thinned nets that share weights, and the full net with its
weights scaled by (1 − p) (here: inverted dropout, so the plain evaluation-mode net) gives about
the *average* of their outputs — exactly for a linear net. A thinned net keeps one mask for all
inputs (units dropped for good, not per example as in training). The average is of the nets'
outputs (the logit, before the sigmoid), the quantity the identity is about; pictures and
losses read it through the sigmoid. Masks come from a generator seeded by the run's train seed,
so the same thinned nets are drawn at every snapshot and every retrain.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from reglab.shapes import EVAL_FLOATS, GRID, THINNED_NETS
from reglab.spec import RunSpec
from reglab.training.datasets import Dataset
from reglab.training.models import Net, forward
from reglab.training.probes import sig

SIZES = (1, 4, 16, 64, THINNED_NETS)  # averages of N thinned nets shown and measured
THINNED = 3  # single thinned nets pictured beside the full net
EXACT_MAX_INPUTS = 10  # a linear net's 2^d input masks are enumerated up to this d
CHUNK_FLOATS = EVAL_FLOATS  # activations of one chunk of thinned nets: about 16 MB


@dataclass(frozen=True, slots=True)
class Rates:
    """One member's dropout: on the inputs and on each hidden layer's units."""

    p_input: float
    p_hidden: float


def member(net: Net, k: int, copies: int) -> Net:
    """Member k's weights seen `copies` times, (S, in, out) views: S nets to thin alike."""
    weights = [w[k : k + 1].detach().expand(copies, -1, -1) for w in net.weights]
    biases = [b[k : k + 1].detach().expand(copies, -1, -1) for b in net.biases]
    return Net(net.arch, weights, biases)


def sample_masks(
    net: Net, rates: Rates, count: int, gen: torch.Generator, dtype: torch.dtype
) -> list[Tensor | None]:
    """`count` thinned nets: per dropout site a mask (S, 1, units), kept units scaled by
    1/(1 − p) (inverted dropout, as in training); None where nothing is dropped."""
    masks: list[Tensor | None] = []
    for site, width in enumerate(net.arch.widths):
        p = rates.p_input if site == 0 else rates.p_hidden
        if p <= 0:
            masks.append(None)
            continue
        u = torch.rand(count, 1, width, generator=gen, dtype=torch.float64)
        masks.append(((u >= p) / (1.0 - p)).to(dtype))  # (S, 1, units)
    return masks


@torch.no_grad()
def thinned_outputs(net: Net, k: int, masks: list[Tensor | None], x: Tensor) -> Tensor:
    """Outputs (S, N) of member k's S thinned nets (one mask each, for all N inputs).

    A few nets at a time, so that one chunk's activations stay near CHUNK_FLOATS: all 256 at
    once over the plane held (256, 1,700, width) per layer, 0.9 GB at width 512."""
    count = next(m.shape[0] for m in masks if m is not None)
    widest = max(b for _, b in net.arch.shapes)
    step = max(1, CHUNK_FLOATS // (x.shape[0] * widest))
    parts = []
    for start in range(0, count, step):
        chunk = [None if m is None else m[start : start + step] for m in masks]
        size = min(step, count - start)
        parts.append(forward(member(net, k, size), x, chunk)[:, :, 0])
    return torch.cat(parts)


@torch.no_grad()
def exact_average(net: Net, k: int, p_input: float, x: Tensor) -> tuple[Tensor, int]:
    """A net with no hidden layer: the average output (N,) over all 2^d input masks, each
    weighted by its probability, and how many masks that was. Linear in the mask, so equal to
    the evaluation-mode output up to rounding."""
    d = net.arch.n_inputs
    keeps = torch.tensor(list(itertools.product((1.0, 0.0), repeat=d)), dtype=x.dtype)  # (M, d)
    prob = (keeps * (1.0 - p_input) + (1.0 - keeps) * p_input).prod(dim=1)  # (M,), x's dtype
    masks: list[Tensor | None] = [(keeps / (1.0 - p_input))[:, None, :]]  # (M, 1, d)
    out = forward(member(net, k, keeps.shape[0]), x, masks)[:, :, 0]  # (M, N)
    return (prob[:, None] * out).sum(dim=0), int(keeps.shape[0])


def group_means(outputs: Tensor, size: int) -> Tensor:
    """Averages (S // size, N) of disjoint groups of `size` consecutive thinned nets."""
    s, n = outputs.shape
    groups = s // size
    return outputs[: groups * size].view(groups, size, n).mean(dim=1)


def _bce(z: Tensor, y: Tensor) -> Tensor:
    """Mean binary cross-entropy per row of logits z (G, N) against labels y (N,)."""
    target = y.to(z.dtype).expand_as(z)
    return F.binary_cross_entropy_with_logits(z, target, reduction="none").mean(dim=1)


class Thinning:
    """One member's thinned nets, drawn once from its train seed and measured at each snapshot."""

    def __init__(self, rates: Rates, seed: int, net: Net) -> None:
        self.rates = rates
        gen = torch.Generator().manual_seed(seed * 2_000_003 + 104_729)
        self.masks = sample_masks(net, rates, SIZES[-1], gen, net.weights[0].dtype)
        self.linear = not net.arch.hidden and net.arch.n_inputs <= EXACT_MAX_INPUTS

    @torch.no_grad()
    def measure(
        self,
        net: Net,
        k: int,
        x_range: tuple[tuple[float, float], ...],
        x_val: Tensor,
        y_val: Tensor,
    ) -> dict[str, Any]:
        """The snapshot's data: the plane's pictures and the validation losses, per N."""
        xs = torch.linspace(*x_range[0], GRID, dtype=x_val.dtype)
        ys = torch.linspace(*x_range[1], GRID, dtype=x_val.dtype)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        plane = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (G², 2)
        points = torch.cat([plane, x_val])  # one pass for the plane and the validation set
        g = plane.shape[0]
        full = forward(member(net, k, 1), points)[0, :, 0]  # (G² + V,) the scaled net
        thinned = thinned_outputs(net, k, self.masks, points)  # (S, G² + V)
        p_full = torch.sigmoid(full[:g])
        y = y_val.flatten()
        diffs, losses, pictures = [], [], []
        for size in SIZES:
            means = group_means(thinned, size)  # (S/N, G² + V)
            diffs.append(float((torch.sigmoid(means[:, :g]) - p_full).abs().mean()))
            losses.append(float(_bce(means[:, g:], y).mean()))
            pictures.append(torch.sigmoid(means[0, :g]))  # the first N nets' average
        singles = torch.sigmoid(thinned[:THINNED, :g])
        data: dict[str, Any] = {
            "x": sig(xs.float()),
            "y": sig(ys.float()),
            "p_input": self.rates.p_input,
            "p_hidden": self.rates.p_hidden,
            "sizes": list(SIZES),
            "full": _grid(p_full),
            "thinned": [_grid(p) for p in singles],
            "average": [_grid(p) for p in pictures],
            "diff": sig(diffs),
            "val_full": sig([float(_bce(full[None, g:], y)[0])])[0],
            "val_average": sig(losses),
        }
        if self.linear:
            average, count = exact_average(net, k, self.rates.p_input, points)
            data["exact"] = {
                "masks": count,
                "max_diff": float((average - full).abs().max()),
                "average": _grid(torch.sigmoid(average[:g])),
            }
        return data


def summary_numbers(data: dict[str, Any]) -> dict[str, Any]:
    """What a run's summary keeps of its last ensemble snapshot (the claims read these)."""
    keep = ("sizes", "diff", "val_full", "val_average")
    out = {name: data[name] for name in keep}
    if "exact" in data:
        out["exact_max_diff"] = data["exact"]["max_diff"]
        out["exact_masks"] = data["exact"]["masks"]
    return out


def _grid(p: Tensor) -> list[list[float]]:
    """Probabilities over the plane (G²,) as GRID rows of GRID, 3 significant digits."""
    cells = sig(p.float(), 3)
    return [cells[r * GRID : (r + 1) * GRID] for r in range(GRID)]


class Ensembles:
    """A group's members that get ensemble snapshots, and each one's last numbers for its
    summary; the loop asks it at each snapshot and at each run's end. Those asking
    train.thinned_nets get them (256 thinned nets over the plane cost about what a few epochs
    do); RunSpec has made sure they drop units and train on the 2-D two-class plane."""

    def __init__(self, specs: list[RunSpec], net: Net, data: Dataset) -> None:
        self._data = data
        self._thinning: dict[int, Thinning] = {}
        self._last: dict[int, dict[str, Any]] = {}
        for k, spec in enumerate(specs):
            if spec.train.thinned_nets:
                reg = spec.regularization
                rates = Rates(reg.input_dropout, reg.dropout)
                self._thinning[k] = Thinning(rates, spec.train.seed, net)

    def snapshot(self, net: Net, k: int) -> dict[str, Any] | None:
        """Member k's ensemble snapshot now, or None if it gets none."""
        thinning = self._thinning.get(k)
        if thinning is None:
            return None
        d = self._data
        data = thinning.measure(net, k, d.x_range, d.x_val, d.y_val)
        self._last[k] = summary_numbers(data)
        return data

    def summary(self, k: int) -> dict[str, Any]:
        """The summary's `extra` entries of member k: its last snapshot's numbers, if any."""
        return {"ensemble": self._last[k]} if k in self._last else {}
