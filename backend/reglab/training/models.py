"""The stacked MLP: K members' weights as (K, in, out) tensors, trained as one batched computation.

Plain functions over stacked tensors rather than `nn.Module`s: the loop needs every member's
weights as one tensor per layer (so an optimizer step, a penalty or a norm is one op for all
members), and a module per member would bring K Python calls per layer back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from reglab.shapes import EVAL_FLOATS, layer_shapes, pieces_of
from reglab.spec import Activation, ModelSpec, Task


@dataclass(frozen=True, slots=True)
class Architecture:
    """What every member of a group shares: layer widths, activation, output head."""

    n_inputs: int
    hidden: tuple[int, ...]
    n_outputs: int
    activation: Activation
    pieces: int  # linear pieces per maxout unit; 1 for the other activations
    task: Task

    @classmethod
    def from_spec(
        cls, model: ModelSpec, *, n_inputs: int, n_outputs: int, task: Task
    ) -> Architecture:
        pieces = pieces_of(model)
        return cls(n_inputs, tuple(model.hidden), n_outputs, model.activation, pieces, task)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of each weight matrix; a maxout layer has units × pieces outputs."""
        return layer_shapes(self.n_inputs, self.hidden, self.n_outputs, self.pieces)

    @property
    def widths(self) -> list[int]:
        """Units seen by dropout: the inputs, then each hidden layer's outputs (after maxout)."""
        return [self.n_inputs, *self.hidden]


@dataclass(slots=True)
class Net:
    """K members' parameters: weights (K, in, out) and biases (K, 1, out), leaf tensors."""

    arch: Architecture
    weights: list[Tensor]
    biases: list[Tensor]

    @property
    def size(self) -> int:
        return int(self.weights[0].shape[0])

    def parameters(self) -> list[Tensor]:
        """Weights and biases interleaved, input to output: W1, b1, W2, b2, …"""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]


def init_net(arch: Architecture, seeds: Sequence[int]) -> Net:
    """Members' initial weights, each drawn from its own seed: equal seeds give equal tensors.

    He (Kaiming) uniform for the ReLU family, LeCun for maxout, Glorot for sigmoid and tanh —
    each the textbook choice for its activation, so that the vanishing-gradient lesson shows the
    activation's effect and not a poor initialization. Biases start at 0.
    """
    per_member: list[list[Tensor]] = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(int(seed))
        layers = []
        for i, (fan_in, fan_out) in enumerate(arch.shapes):
            last = i == len(arch.shapes) - 1
            if arch.activation in ("sigmoid", "tanh") or last:
                bound = math.sqrt(6.0 / (fan_in + fan_out))
            elif arch.activation == "maxout":
                # The max of k pieces keeps (k = 2) or grows the signal's second moment where
                # ReLU halves it: LeCun's variance 1/fan_in, not He's 2/fan_in, or deep nets
                # blow up.
                bound = math.sqrt(3.0 / fan_in)
            else:
                bound = math.sqrt(6.0 / fan_in)
            layers.append(torch.empty(fan_in, fan_out).uniform_(-bound, bound, generator=gen))
        per_member.append(layers)
    weights = [torch.stack(ws).requires_grad_() for ws in zip(*per_member, strict=True)]
    biases = [torch.zeros(len(seeds), 1, w.shape[2], requires_grad=True) for w in weights]
    return Net(arch, weights, biases)


def forward(net: Net, x: Tensor, masks: Sequence[Tensor | None] = ()) -> Tensor:
    """Every member's output (K, N, out) for inputs x (N, d) shared by all members, or for
    each member's own inputs x (K, N, d).

    `masks` (from `DropoutMasks.sample`) multiply the inputs and each hidden layer's outputs;
    empty in evaluation mode.
    """
    arch = net.arch
    k = net.size
    h = x  # (N, d), broadcast against each member's (d, H) weight
    first = masks[0] if masks else None
    if first is not None:
        h = h * first  # (K, N, d)
    if h.dim() == 2:
        h = h.expand(k, -1, -1)  # (K, N, d): a view, no copy
    last = len(net.weights) - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        if w.shape[2] == 1:
            # A one-unit layer as a row product: bmm would take a gemv path when K = 1 whose
            # rounding differs from K > 1, and a member must train alike alone or in a group.
            h = (h * w.transpose(1, 2)).sum(dim=-1, keepdim=True) + b  # (K, N, 1)
        else:
            h = torch.baddbmm(b, h, w)  # (K, N, out)
        if i == last:
            break
        h = _activate(h, arch)  # (K, N, H)
        mask = masks[i + 1] if masks else None
        if mask is not None:
            h = h * mask
    return h


def _activate(h: Tensor, arch: Architecture) -> Tensor:
    # ReLU's in place: h is a fresh layer output that nothing else holds (baddbmm's backward
    # needs its inputs, not its output), and a fresh (K, N, H) tensor is costly for large N.
    if arch.activation == "relu":
        return torch.relu_(h)
    if arch.activation == "sigmoid":
        return torch.sigmoid(_apart(h))
    if arch.activation == "tanh":
        return torch.tanh(_apart(h))
    if arch.activation == "leaky_relu":
        return F.leaky_relu(h, 0.01)
    k, n, width = h.shape
    # Maxout: each unit's pieces sit side by side; the unit outputs the largest.
    return h.view(k, n, width // arch.pieces, arch.pieces).amax(dim=-1)  # (K, N, H)


def _apart(h: Tensor) -> Tensor:
    """h (K, N, W) as a view in which members do not touch (a spare row after each).

    An elementwise kernel runs over contiguous memory in vector chunks and finishes the tail with
    scalar code, whose exp/log round differently in the last bit. Over one contiguous (K, N, W)
    block, where a member's values fall in that split depends on K; with a gap between members
    the kernel loops member by member, so a member is rounded alike alone or in any group.
    Used only before transcendental ops (sigmoid, tanh, the binary loss), where it matters.
    """
    return F.pad(h, (0, 0, 0, 1))[:, :-1]


def losses(out: Tensor, y: Tensor, task: Task) -> Tensor:
    """Each member's mean data loss (K,) on one batch: BCE, cross-entropy or mean squared error."""
    if task == "binary":
        target = y.expand_as(out)  # (K, N, 1)
        bce = F.binary_cross_entropy_with_logits(_apart(out), target, reduction="none")
        return bce.mean(dim=(1, 2))
    if task == "multiclass":
        # cross_entropy wants classes on dim 1: (K, C, N) against targets (K, N).
        ce = F.cross_entropy(out.transpose(1, 2), y.expand(out.shape[0], -1), reduction="none")
        return ce.mean(dim=1)
    return (out - y).square().mean(dim=(1, 2))


def hits(out: Tensor, y: Tensor, task: Task) -> Tensor | None:
    """Each member's count (K,) of correct predictions; None for regression."""
    if task == "binary":
        return ((out > 0) == (y > 0.5)).sum(dim=(1, 2))
    if task == "multiclass":
        return (out.argmax(dim=-1) == y).sum(dim=1)
    return None


@torch.no_grad()
def evaluate(net: Net, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
    """Evaluation-mode (no dropout) loss (K,) and accuracy (K,) or None, over all of x."""
    arch = net.arch
    n = x.shape[0]
    widest = max(b for _, b in arch.shapes)
    chunk = max(1, EVAL_FLOATS // (net.size * widest))
    loss_sum = torch.zeros(net.size)
    hit_sum = torch.zeros(net.size)
    for start in range(0, n, chunk):
        xb, yb = x[start : start + chunk], y[start : start + chunk]
        out = forward(net, xb)
        loss_sum += losses(out, yb, arch.task) * xb.shape[0]
        right = hits(out, yb, arch.task)
        if right is not None:
            hit_sum += right
    acc = hit_sum / n if arch.task != "regression" else None
    return loss_sum / n, acc


@torch.no_grad()
def predict(net: Net, x: Tensor) -> Tensor:
    """What a student would plot (K, N, out): probabilities for classification, values else."""
    out = forward(net, x)
    if net.arch.task == "binary":
        return torch.sigmoid(out)
    if net.arch.task == "multiclass":
        return torch.softmax(out, dim=-1)
    return out


class DropoutMasks:
    """Inverted-dropout masks, resampled at every update, one per site (inputs, hidden layers).

    Each site draws one uniform tensor (B, units) per update from a generator seeded from a
    member's train seed, and member k keeps the units where u ≥ p_k, scaled by 1/(1 − p_k).
    Members that share a train seed share the draw. So the masks of a member depend only on its
    seed and its own p — it trains identically alone or beside others — and members that differ
    only in p see the same random numbers (a member with p = 0.2 drops a subset of what p = 0.5
    drops): the fair comparison again. Replicates (other seeds) draw their own.
    A site is drawn only when some member drops there; a member with p = 0 gets exact ones.
    """

    def __init__(
        self, p_input: Tensor, p_hidden: Tensor, widths: Sequence[int], seeds: Sequence[int]
    ):
        unique = list(dict.fromkeys(int(s) for s in seeds))
        # Which seed's draw each member uses; None when all share one (no gather needed).
        self._pick = (
            None if len(unique) == 1 else torch.tensor([unique.index(int(s)) for s in seeds])
        )
        self._sites: list[tuple[list[torch.Generator], int, Tensor, Tensor] | None] = []
        for site, width in enumerate(widths):
            p = p_input if site == 0 else p_hidden  # (K,)
            if not bool((p > 0).any()):
                self._sites.append(None)
                continue
            gens = [torch.Generator().manual_seed(_site_seed(seed, site)) for seed in unique]
            p3 = p.view(-1, 1, 1).to(torch.float32)  # (K, 1, 1)
            self._sites.append((gens, width, p3, 1.0 / (1.0 - p3)))
        self.active = any(s is not None for s in self._sites)

    def sample(self, batch: int) -> list[Tensor | None]:
        """One mask (K, B, units) or None per site, for an update on `batch` examples."""
        masks: list[Tensor | None] = []
        for site in self._sites:
            if site is None:
                masks.append(None)
                continue
            gens, width, p, scale = site
            if self._pick is None:
                u = torch.rand(batch, width, generator=gens[0])  # (B, units), shared by members
            else:
                draws = torch.stack([torch.rand(batch, width, generator=g) for g in gens])
                u = draws[self._pick]  # (K, B, units): each member its seed's draw
            masks.append((u >= p) * scale)  # (K, B, units)
        return masks


def _site_seed(seed: int, site: int) -> int:
    # Distinct streams for the batch order (plain seed) and each dropout site.
    return (seed * 1_000_003 + 7919 * (site + 1)) % (2**63 - 1)
