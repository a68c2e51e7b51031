"""The lecture's optimizers, vectorized over the K members of a lockstep group.

Every parameter is one tensor shaped (K, ...): member k owns slice [k]. torch.optim cannot give
each slice its own learning rate, so the updates are written here, one short class per kind, each
held equal to torch.optim on a single member by tests/unit/test_optim.py. Hyperparameters are (K,)
tensors, fixed for the optimizer's life, viewed as (K, 1, …, 1) per parameter so they broadcast.

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

# What the torch._foreach_* ops take and return.
Tensors = list[Tensor] | tuple[Tensor, ...]


class VectorOptimizer:
    """Base: decoupled decay, frozen members and the final step; subclasses give the direction.

    A subclass gives, per parameter, a numerator n and a denominator d (or none), and the base
    applies θ ← θ − s·n / d with the per-member step size s (η; η / (1 − β1ᵗ) for Adam).
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
        self._shapes = [(self.k,) + (1,) * (p.dim() - 1) for p in self.params]
        self.lr, self.momentum, self.eps = lr, momentum, eps
        self.beta1, self.beta2, self.alpha = beta1, beta2, alpha
        self.weight_decay = weight_decay
        self.decay_mask = list(decay_mask)
        self.steps = 0
        # Worked out once: each step is Python-overhead-bound for the small nets of a lesson.
        # Scalars in float64, as torch.optim does with its Python floats.
        self._decayed = [p for p, m in zip(self.params, self.decay_mask, strict=True) if m]
        self._decay_shapes = [(self.k,) + (1,) * (p.dim() - 1) for p in self._decayed]
        self._decay_factor = (1 - lr.double() * weight_decay.double()).float()
        self._decays = bool(self._decayed) and bool((weight_decay != 0).any())
        self._neg_lr = self.per_param(-lr)
        self._init_state()

    def per_param(self, h: Tensor) -> list[Tensor]:
        """A (K,) tensor as one broadcastable (K, 1, …, 1) view per parameter."""
        return [h.view(shape) for shape in self._shapes]

    def zeros(self) -> list[Tensor]:
        """Fresh optimizer state: one zero tensor per parameter."""
        return [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, active: Tensor) -> None:
        """One update of every member whose `active` entry is 1; the others do not move at all.

        The state (moments, sums) advances for every member; a frozen member only keeps still.
        """
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        self.steps += 1
        frozen = not bool(active.all())
        keep = active.bool()

        if self._decays:
            # Decoupled decay θ ← (1 − η·λ)·θ, on weights only; the factor is 1 for frozen members.
            factor = self._decay_factor
            if frozen:
                factor = torch.where(keep, factor, torch.ones_like(factor))
            torch._foreach_mul_(self._decayed, [factor.view(shape) for shape in self._decay_shapes])

        numerators, denominators = self._direction(grads)
        neg_step = self._neg_step()
        if denominators is None and not frozen:
            torch._foreach_addcmul_(self.params, numerators, neg_step)  # θ ← θ − s·n
            return
        # θ ← θ + (−s·n) / d, multiplied, then divided, in torch.optim's order, so that rounding
        # matches it too: adaptive steps amplify a last-bit difference over many steps.
        updates = torch._foreach_mul(numerators, neg_step)
        if denominators is not None:
            torch._foreach_div_(updates, denominators)
        if not frozen:
            torch._foreach_add_(self.params, updates)
            return
        # torch.where, not a multiplication by 0: a diverged member's NaN update must not leak
        # into its frozen weights (0·NaN = NaN).
        for p, u, shape in zip(self.params, updates, self._shapes, strict=True):
            p.add_(torch.where(keep.view(shape), u, 0.0))

    def _init_state(self) -> None:
        """Allocate the kind's state (zeros) and the hyperparameter views it reads each step."""

    def _neg_step(self) -> list[Tensor]:
        """−s per parameter, the step size with its sign: −η unless the kind says otherwise."""
        return self._neg_lr

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        """The step's numerator and denominator (None: 1) per parameter: θ ← θ − s·n / d."""
        raise NotImplementedError


class SGD(VectorOptimizer):
    """θ ← θ − η·g."""

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        return grads, None


class Momentum(VectorOptimizer):
    """v ← λ·v − η·g;  θ ← θ + v.  As torch writes it (dampening 0): b ← μ·b + g;  θ ← θ − η·b."""

    def _init_state(self) -> None:
        self.mu = self.per_param(self.momentum)
        self.buffers = self.zeros()

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        torch._foreach_mul_(self.buffers, self.mu)
        torch._foreach_add_(self.buffers, grads)
        return self.buffers, None


class Nesterov(Momentum):
    """Look ahead before stepping: b ← μ·b + g;  θ ← θ − η·(g + μ·b)  (SGD(nesterov=True))."""

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        buffers, _ = super()._direction(grads)
        return torch._foreach_addcmul(grads, buffers, self.mu), None


class Adagrad(VectorOptimizer):
    """σ² ← σ² + g²;  θ ← θ − η·g / (√σ² + ε): the sum only grows, so every step shrinks."""

    def _init_state(self) -> None:
        self.eps_views = self.per_param(self.eps)
        self.sums = self.zeros()

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        torch._foreach_addcmul_(self.sums, grads, grads)
        denom = torch._foreach_sqrt(self.sums)
        torch._foreach_add_(denom, self.eps_views)
        return grads, denom


class RMSProp(VectorOptimizer):
    """σ² ← α·σ² + (1 − α)·g²;  θ ← θ − η·g / (√σ² + ε): a moving average, so steps never die."""

    def _init_state(self) -> None:
        self.alpha_views = self.per_param(self.alpha)
        self.one_minus_alpha = self.per_param(1 - self.alpha)
        self.eps_views = self.per_param(self.eps)
        self.squares = self.zeros()

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        torch._foreach_mul_(self.squares, self.alpha_views)
        torch._foreach_addcmul_(
            self.squares, torch._foreach_mul(grads, self.one_minus_alpha), grads
        )
        denom = torch._foreach_sqrt(self.squares)
        torch._foreach_add_(denom, self.eps_views)
        return grads, denom


class Adam(VectorOptimizer):
    """m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  θ ← θ − η·m̂ / (√v̂ + ε),
    with the bias corrections m̂ = m / (1 − β1ᵗ) and v̂ = v / (1 − β2ᵗ)."""

    def _init_state(self) -> None:
        self.one_minus_beta1 = self.per_param(1 - self.beta1)
        self.beta2_views = self.per_param(self.beta2)
        self.one_minus_beta2 = self.per_param(1 - self.beta2)
        self.eps_views = self.per_param(self.eps)
        self._neg_lr64, self._beta1_64 = -self.lr.double(), self.beta1.double()
        self._beta2_64 = self.beta2.double()
        self.means = self.zeros()
        self.squares = self.zeros()

    def _neg_step(self) -> list[Tensor]:
        # −η / (1 − β1ᵗ): m̂'s correction folded into the step, as torch does, in float64 as there.
        return self.per_param((self._neg_lr64 / (1 - self._beta1_64**self.steps)).float())

    def _direction(self, grads: list[Tensor]) -> tuple[Tensors, Tensors | None]:
        torch._foreach_lerp_(self.means, grads, self.one_minus_beta1)
        torch._foreach_mul_(self.squares, self.beta2_views)
        torch._foreach_addcmul_(
            self.squares, torch._foreach_mul(grads, self.one_minus_beta2), grads
        )
        # √v̂ + ε = √v / √(1 − β2ᵗ) + ε: ε outside the correction, as in torch.
        correction = torch.sqrt(1 - self._beta2_64**self.steps).float()
        denom = torch._foreach_sqrt(self.squares)
        torch._foreach_div_(denom, self.per_param(correction))
        torch._foreach_add_(denom, self.eps_views)
        return self.means, denom


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
