"""The lecture's optimizers, vectorized over the K members of a lockstep group.

Every parameter is one tensor shaped (K, ...): member k owns slice [k]. torch.optim cannot give
each slice its own learning rate, so the updates are written here, one short class per kind, each
held equal to torch.optim on a single member by tests/unit/test_optim.py. Hyperparameters are (K,)
tensors, fixed for the optimizer's life, viewed as (K, 1) columns of the flat (K, P) buffers.

Weight decay here is always *decoupled* (AdamW's kind, Loshchilov & Hutter): before the update,
w ← (1 − η·λ)·w on the parameters whose decay_mask is True (weights, never biases). With plain SGD
that is the same update as an L2 penalty in the loss; with the adaptive kinds it is not. "adam" and
"adamw" therefore share one update: Adam with λ = 0 is plain Adam, and both decay when λ > 0.
An L2 penalty *in the loss* (coupled, torch's `weight_decay=` argument) lives in regularize.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from reglab.spec import OptimizerKind


class VectorOptimizer:
    """Base: decoupled decay, frozen members and the final step; subclasses give the direction.

    A subclass gives a numerator n and a denominator d (or none), and the base applies
    θ ← θ − s·n / d with the per-member step size s (η unless the kind says otherwise); Adam
    instead replaces that whole move with torch's fused kernel.

    All parameters live in one flat (K, P) buffer: the optimizer re-points each parameter's data
    at its slice of the buffer (the tensors stay the caller's leaves), and gathers the gradients
    into a (K, P) buffer with one copy per step. An update is then a handful of ops on one tensor
    instead of a handful per parameter, which is what a lesson's small nets spend most of their
    step on (CPU foreach ops loop over the tensors one by one).
    """

    def __init__(
        self,
        params: Sequence[Tensor],
        *,
        lr: Tensor,
        momentum: Tensor,
        beta1: Tensor,
        beta2: Tensor,
        alpha: Tensor,
        eps: Tensor,
        weight_decay: Tensor,
        decay_mask: Sequence[bool],
    ) -> None:
        self.params = list(params)
        self.k = lr.shape[0]
        if len(decay_mask) != len(self.params):
            raise ValueError(
                f"decay_mask has {len(decay_mask)} entries for {len(self.params)} parameters; "
                "give one True/False per parameter."
            )
        for i, p in enumerate(self.params):
            if p.dim() < 1 or p.shape[0] != self.k:
                raise ValueError(
                    f"parameter {i} has shape {tuple(p.shape)}; its first dimension must be the "
                    f"{self.k} members."
                )
        self.lr, self.momentum, self.eps = lr, momentum, eps
        self.beta1, self.beta2, self.alpha = beta1, beta2, alpha
        self.weight_decay = weight_decay
        self.decay_mask = list(decay_mask)
        self.steps = 0
        self._flatten()
        # Worked out once: each step is Python-overhead-bound for the small nets of a lesson.
        # Scalars in float64, as torch.optim does with its Python floats; then the buffer's dtype.
        factor = 1 - lr.double() * weight_decay.double()
        self._decay_factor = self.col(factor.to(self.flat.dtype))
        self._decays = self._n_decayed > 0 and bool((weight_decay != 0).any())
        self._neg_lr = self.col(-lr)
        # (K, P) buffers of the generic step (Adam needs neither): gathered gradients, −s·n / d.
        self._buffers: dict[str, Tensor] = {}
        self._init_state()

    def _flatten(self) -> None:
        """Move every parameter into one (K, P) buffer, decayed ones first.

        Decayed parameters first, so that decoupled decay is one op on the slice [:, :n].
        """
        dtype = self.params[0].dtype
        if any(p.dtype != dtype for p in self.params):
            raise ValueError("all parameters must share one dtype: they share one buffer.")
        order = sorted(range(len(self.params)), key=lambda i: not self.decay_mask[i])
        sizes = [self.params[i][0].numel() for i in order]
        total = sum(sizes)
        self.flat = torch.empty(self.k, total, dtype=dtype)  # (K, P): member k's in row k
        self._n_decayed = sum(s for i, s in zip(order, sizes, strict=True) if self.decay_mask[i])
        self._order = [self.params[i] for i in order]
        offset = 0
        with torch.no_grad():
            for p, size in zip(self._order, sizes, strict=True):
                data = self.flat[:, offset : offset + size].view(p.shape)
                data.copy_(p)
                p.data = data
                offset += size

    def _buffer(self, name: str) -> Tensor:
        """A (K, P) scratch buffer, allocated on first use and kept."""
        if name not in self._buffers:
            self._buffers[name] = torch.empty_like(self.flat)
        return self._buffers[name]

    def decayed(self) -> Tensor:
        """The decayed parameters (a net's weights) of each member side by side: (K, n), a view."""
        return self.flat[:, : self._n_decayed]

    def col(self, h: Tensor) -> Tensor:
        """A (K,) tensor as a (K, 1) column, which broadcasts against the (K, P) buffers."""
        return h.view(self.k, 1)

    def zeros(self) -> Tensor:
        """Fresh optimizer state: zeros shaped like the (K, P) parameter buffer."""
        return torch.zeros_like(self.flat)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _gather_grads(self) -> Tensor:
        """The gradients as one (K, P) tensor, in the buffer's order; a missing one counts as 0.

        Autograd keeps its own contiguous `.grad` tensors: views into the (K, P) buffer would
        break its gradient layout contract (a member's slice is not dense) and cost a zeroing
        pass besides; one concatenation is the cheaper copy.
        """
        k = self.k
        grads = [
            (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(k, -1)
            for p in self._order
        ]
        return torch.cat(grads, dim=1, out=self._buffer("grad"))

    @torch.no_grad()
    def step(self, active: Tensor | None = None) -> None:
        """One update of every member whose `active` entry is 1 (None: all); the others keep still.

        The state (moments, sums) advances for every member and a frozen member only keeps
        still, except in Adam, which skips a frozen member altogether (it never trains again).
        """
        self.steps += 1
        frozen = active is not None and not bool(active.all())
        keep = self.col(active.bool()) if active is not None and frozen else None

        if self._decays:
            # Decoupled decay θ ← (1 − η·λ)·θ, on weights only; the factor is 1 for frozen members.
            factor = self._decay_factor
            if keep is not None:
                factor = torch.where(keep, factor, 1.0)
            self.flat[:, : self._n_decayed].mul_(factor)

        self._move(keep)

    def _move(self, keep: Tensor | None) -> None:
        """θ ← θ − s·n / d for the members that `keep` (K, 1) marks (None: all of them)."""
        flat = self.flat
        numerator, denominator = self._direction(self._gather_grads())
        neg_step = self._neg_step()  # (K, 1)
        if denominator is None and keep is None:
            flat.addcmul_(numerator, neg_step)  # θ ← θ − s·n
            return
        # θ ← θ + (−s·n) / d, multiplied, then divided, in torch.optim's order, so that rounding
        # matches it too: adaptive steps amplify a last-bit difference over many steps.
        update = torch.mul(numerator, neg_step, out=self._buffer("update"))
        if keep is None:
            assert denominator is not None
            flat.addcdiv_(update, denominator)  # θ + 1·(u / d): the same rounding as add(u / d)
            return
        if denominator is not None:
            update.div_(denominator)
        # torch.where, not a multiplication by 0: a diverged member's NaN update must not leak
        # into its frozen weights (0·NaN = NaN).
        flat.add_(torch.where(keep, update, 0.0))

    def _init_state(self) -> None:
        """Allocate the kind's state (zeros) and the hyperparameter columns it reads each step."""

    def _neg_step(self) -> Tensor:
        """−s (K, 1), the step size with its sign: −η unless the kind says otherwise."""
        return self._neg_lr

    def _direction(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        """The step's numerator and denominator (None: 1), (K, P) each: θ ← θ − s·n / d."""
        raise NotImplementedError


class SGD(VectorOptimizer):
    """θ ← θ − η·g."""

    def _direction(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        return grad, None


class Momentum(VectorOptimizer):
    """v ← λ·v − η·g;  θ ← θ + v.  As torch writes it (dampening 0): b ← μ·b + g;  θ ← θ − η·b."""

    def _init_state(self) -> None:
        self.mu = self.col(self.momentum)
        self.buffer = self.zeros()

    def _direction(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        self.buffer.mul_(self.mu).add_(grad)
        return self.buffer, None


class Nesterov(Momentum):
    """Look ahead before stepping: b ← μ·b + g;  θ ← θ − η·(g + μ·b)  (SGD(nesterov=True))."""

    def _direction(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        buffer, _ = super()._direction(grad)
        return torch.addcmul(grad, buffer, self.mu), None


class Adagrad(VectorOptimizer):
    """σ² ← σ² + g²;  θ ← θ − η·g / (√σ² + ε): the sum only grows, so every step shrinks."""

    def _init_state(self) -> None:
        self.eps_col = self.col(self.eps)
        self.sums = self.zeros()
        self.denom = self.zeros()

    def _direction(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        self.sums.addcmul_(grad, grad)
        torch.sqrt(self.sums, out=self.denom).add_(self.eps_col)
        return grad, self.denom


class RMSProp(VectorOptimizer):
    """σ² ← α·σ² + (1 − α)·g²;  θ ← θ − η·g / (√σ² + ε): a moving average, so steps never die."""

    def _init_state(self) -> None:
        self.alpha_col = self.col(self.alpha)
        self.one_minus_alpha = self.col(1 - self.alpha)
        self.eps_col = self.col(self.eps)
        self.squares = self.zeros()
        self.denom = self.zeros()  # also the scratch for (1 − α)·g before it

    def _direction(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        scaled = torch.mul(grad, self.one_minus_alpha, out=self.denom)
        self.squares.mul_(self.alpha_col).addcmul_(scaled, grad)
        torch.sqrt(self.squares, out=self.denom).add_(self.eps_col)
        return grad, self.denom


class Adam(VectorOptimizer):
    """m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  θ ← θ − η·m̂ / (√v̂ + ε),
    with the bias corrections m̂ = m / (1 − β1ᵗ) and v̂ = v / (1 − β2ᵗ).

    Each member goes through torch's fused CPU Adam kernel (what Adam(fused=True) runs) with its
    own hyperparameters: one pass over its parameters instead of a dozen elementwise ops over all
    members, which for a wide net is most of a step's memory traffic. The kernel takes lists, so
    it reads each member's gradients where autograd left them (no gathering copy). A member
    computes exactly alike alone or in a group: its pieces are its own call. A frozen member is
    skipped, moments and all (it never trains again).
    """

    def _init_state(self) -> None:
        self.means = self.zeros()
        self.squares = self.zeros()
        # The float32 values as Python floats, as torch.optim would be given them.
        self._hyper = [
            {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}
            for lr, b1, b2, eps in zip(
                self.lr.tolist(),
                self.beta1.tolist(),
                self.beta2.tolist(),
                self.eps.tolist(),
                strict=True,
            )
        ]
        self._step = torch.zeros(())  # t, which the kernel reads; shared by all members
        # Per member, its slice of each parameter in the buffers' order: contiguous views.
        self._params, self._means, self._squares = (
            self._per_member(buffer) for buffer in (self.flat, self.means, self.squares)
        )

    def _per_member(self, buffer: Tensor) -> list[list[Tensor]]:
        """A (K, P) buffer as K lists (members) of views shaped like one member's parameters."""
        pieces, offset = [], 0
        for p in self._order:
            size = p[0].numel()
            pieces.append(buffer[:, offset : offset + size].view(p.shape).unbind(0))
            offset += size
        return [list(member) for member in zip(*pieces, strict=True)]

    def _move(self, keep: Tensor | None) -> None:
        self._step.fill_(self.steps)
        kept = [True] * self.k if keep is None else keep.flatten().tolist()
        by_param = [
            (p.grad if p.grad is not None else torch.zeros_like(p)).contiguous().unbind(0)
            for p in self._order
        ]
        grads = zip(*by_param, strict=True)  # per member, its gradient pieces
        rows = zip(self._params, grads, self._means, self._squares, self._hyper, kept, strict=True)
        # Members with the same hyperparameters (a lesson's variants and replicates mostly are)
        # go through one kernel call together: the kernel works tensor by tensor, so a member's
        # numbers are the same in any call, and a call costs ~40 µs of Python whatever its size.
        calls: dict[tuple[float, ...], tuple[list[Tensor], ...]] = {}
        for param, grad, mean, square, hyper, on in rows:
            if on:
                lists = calls.setdefault(tuple(hyper.values()), ([], [], [], []))
                for into, pieces in zip(lists, (param, grad, mean, square), strict=True):
                    into.extend(pieces)
        for (lr, beta1, beta2, eps), (param, grad, mean, square) in calls.items():
            torch._fused_adam_(
                param,
                grad,
                mean,
                square,
                [],  # no AMSGrad maxima
                [self._step] * len(param),
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                weight_decay=0.0,  # decoupled decay is done above, on weights only
                amsgrad=False,
                maximize=False,
            )


_KINDS: dict[str, type[VectorOptimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": Adam,  # same update; decoupled decay applies to both whenever λ > 0
}


def make_optimizer(
    kind: OptimizerKind,
    params: Sequence[Tensor],
    *,
    lr: Tensor,
    momentum: Tensor,
    beta1: Tensor,
    beta2: Tensor,
    alpha: Tensor,
    eps: Tensor,
    weight_decay: Tensor,
    decay_mask: Sequence[bool],
) -> VectorOptimizer:
    """The optimizer of `kind` over stacked params, each hyperparameter a (K,) tensor."""
    if kind not in _KINDS:
        raise ValueError(f"unknown optimizer kind {kind!r}; use one of {', '.join(_KINDS)}.")
    return _KINDS[kind](
        params,
        lr=lr,
        momentum=momentum,
        beta1=beta1,
        beta2=beta2,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        decay_mask=decay_mask,
    )
