"""Remedies for overfitting that act on weights: L1 / L2 penalties, L1's proximal step, early stop.

All of it is vectorized over the K members of a lockstep group: weights are (K, ...) tensors and
every λ is a (K,) tensor. Callers pass weights only: the lecture regularizes weights, never biases.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def _per_member(h: Tensor, w: Tensor) -> Tensor:
    """A (K,) tensor viewed as (K, 1, …, 1) to broadcast against w."""
    return h.view((h.shape[0],) + (1,) * (w.dim() - 1))


@torch.no_grad()
def add_penalty_grads(weights: Sequence[Tensor], *, l1: Tensor, l2: Tensor) -> None:
    """Add the penalties' gradients to w.grad in place: λ1·sign(w) + λ2·w.

    That is ∂/∂w of λ1·Σ|w| + λ2·½Σw² (tests/unit/test_regularize.py holds it to autograd).

    sign(0) = 0, as the lecture takes it. Give λ1 = 0 for members that use the proximal step.
    """
    use_l1 = bool((l1 != 0).any())
    use_l2 = bool((l2 != 0).any())
    for w in weights:
        if w.grad is None:
            raise ValueError("add_penalty_grads needs w.grad: call it after loss.backward().")
        if use_l2:
            w.grad.addcmul_(w, _per_member(l2, w))
        if use_l1:
            w.grad.addcmul_(torch.sign(w), _per_member(l1, w))


@torch.no_grad()
def proximal_l1(weights: Sequence[Tensor], threshold: Tensor) -> None:
    """Soft-threshold in place: w ← sign(w)·max(|w| − t, 0), with t = η·λ1 per member (K,).

    The proximal step of L1: weights within t of zero become exactly zero (sparse), the rest move t
    toward zero. A member with t = 0 is left exactly as it was.
    """
    if not bool((threshold != 0).any()):
        return
    for w in weights:
        shrunk = (w.abs() - _per_member(threshold, w)).clamp_(min=0)
        w.copy_(torch.sign(w) * shrunk)


class EarlyStopping:
    """Stop a member when its validation loss has not improved for `patience` epochs.

    An epoch improves when val_loss < best_loss − min_delta; NaN never improves. Members whose
    `enabled` is False are tracked too (best epoch is worth reporting) but never told to stop.
    """

    def __init__(self, *, enabled: Tensor, patience: Tensor, min_delta: Tensor) -> None:
        self.enabled = enabled.bool()
        self.patience = patience
        self.min_delta = min_delta
        k = enabled.shape[0]
        self.best_loss = torch.full((k,), float("inf"))
        self.best_epoch = torch.full((k,), -1, dtype=torch.long)
        self.epochs_without_improvement = torch.zeros(k, dtype=torch.long)

    def update(self, val_loss: Tensor, epoch: int) -> tuple[Tensor, Tensor]:
        """Record one epoch's (K,) validation loss; give (improved, should_stop), (K,) bools."""
        val_loss = val_loss.detach().to(self.best_loss.dtype)
        # A comparison with NaN is False, so a NaN loss is never an improvement.
        improved = val_loss < self.best_loss - self.min_delta
        self.best_loss = torch.where(improved, val_loss, self.best_loss)
        self.best_epoch = torch.where(improved, epoch, self.best_epoch)
        self.epochs_without_improvement = torch.where(
            improved, 0, self.epochs_without_improvement + 1
        )
        should_stop = self.enabled & (self.epochs_without_improvement >= self.patience)
        return improved, should_stop
