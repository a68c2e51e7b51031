"""L1 / L2 penalties touch only what they are given, the proximal step makes exact zeros, and early
stopping waits `patience` epochs for an improvement bigger than `min_delta`."""

from __future__ import annotations

import math

import pytest
import torch
from reglab.training.regularize import (
    EarlyStopping,
    add_penalty_grads,
    proximal_l1,
)
from torch import Tensor


def weight(values: list[list[float]]) -> Tensor:
    """A (K, 1, n) weight with a zero gradient."""
    w = torch.tensor(values).unsqueeze(1).requires_grad_()
    w.grad = torch.zeros_like(w)
    return w


def penalty_value(weights: list[Tensor], *, l1: Tensor, l2: Tensor) -> Tensor:
    """Each member's penalty λ1·Σ|w| + λ2·½Σw² over all its weights, (K,): the oracle whose
    autograd gradient add_penalty_grads must equal."""
    total = torch.zeros_like(l1)
    for w in weights:
        flat = w.reshape(w.shape[0], -1)
        total += l1 * flat.abs().sum(dim=1) + l2 * 0.5 * flat.square().sum(dim=1)
    return total


def test_l1_gradient_is_lambda_times_sign_with_sign_of_zero_zero() -> None:
    w = weight([[-2.0, 0.0, 3.0], [0.5, -0.5, 0.0]])
    add_penalty_grads([w], l1=torch.tensor([0.1, 0.2]), l2=torch.zeros(2))
    expected = torch.tensor([[-0.1, 0.0, 0.1], [0.2, -0.2, 0.0]]).unsqueeze(1)
    torch.testing.assert_close(w.grad, expected)


def test_l2_gradient_is_lambda_times_w_and_adds_to_the_loss_gradient() -> None:
    w = weight([[-2.0, 0.0, 3.0], [0.5, -0.5, 0.0]])
    w.grad = torch.ones_like(w)
    add_penalty_grads([w], l1=torch.zeros(2), l2=torch.tensor([0.1, 0.0]))
    expected = torch.tensor([[0.8, 1.0, 1.3], [1.0, 1.0, 1.0]]).unsqueeze(1)
    torch.testing.assert_close(w.grad, expected)


def test_penalty_gradients_are_the_gradient_of_penalty_value() -> None:
    g = torch.Generator().manual_seed(0)
    ws = [torch.randn(3, 4, 5, generator=g).requires_grad_() for _ in range(2)]
    l1, l2 = torch.tensor([0.0, 0.1, 0.3]), torch.tensor([0.2, 0.0, 0.05])
    penalty_value(ws, l1=l1, l2=l2).sum().backward()
    autograd = [w.grad.clone() for w in ws]  # type: ignore[union-attr]
    for w in ws:
        w.grad = torch.zeros_like(w)
    add_penalty_grads(ws, l1=l1, l2=l2)
    for w, expected in zip(ws, autograd, strict=True):
        torch.testing.assert_close(w.grad, expected)


def test_penalty_value_is_per_member() -> None:
    w = weight([[-2.0, 0.0, 3.0], [0.5, -0.5, 0.0]])
    value = penalty_value([w], l1=torch.tensor([1.0, 0.0]), l2=torch.tensor([0.0, 2.0]))
    torch.testing.assert_close(value, torch.tensor([5.0, 0.5]))


def test_proximal_step_makes_exact_zeros_and_shrinks_the_rest_by_the_threshold() -> None:
    w = torch.tensor([[0.05, -0.08, 0.3, -1.0], [0.05, -0.08, 0.3, -1.0]]).unsqueeze(1)
    proximal_l1([w], torch.tensor([0.1, 0.0]))
    torch.testing.assert_close(w[0, 0], torch.tensor([0.0, 0.0, 0.2, -0.9]))
    assert (w[0, 0, :2] == 0).all()
    assert torch.equal(w[1, 0], torch.tensor([0.05, -0.08, 0.3, -1.0]))  # t = 0: untouched


def test_proximal_step_never_flips_a_sign() -> None:
    w = torch.randn(4, 6, 7, generator=torch.Generator().manual_seed(0))
    before = w.clone()
    proximal_l1([w], torch.full((4,), 0.5))
    assert ((w == 0) | (torch.sign(w) == torch.sign(before))).all()
    assert (w == 0).sum() > 0


def stopper(patience: int = 3, min_delta: float = 0.0, enabled: bool = True) -> EarlyStopping:
    return EarlyStopping(
        enabled=torch.tensor([enabled]),
        patience=torch.tensor([patience]),
        min_delta=torch.tensor([min_delta]),
    )


def feed(stop: EarlyStopping, losses: list[float]) -> list[tuple[bool, bool]]:
    """(improved, should_stop) after each epoch's loss."""
    history = []
    for epoch, loss in enumerate(losses):
        improved, should_stop = stop.update(torch.tensor([loss]), epoch)
        history.append((bool(improved), bool(should_stop)))
    return history


def test_early_stopping_stops_after_patience_epochs_without_improvement() -> None:
    stop = stopper(patience=3)
    history = feed(stop, [1.0, 0.8, 0.9, 0.85, 0.81])
    assert history == [(True, False), (True, False), (False, False), (False, False), (False, True)]
    assert stop.best_epoch.tolist() == [1]
    assert stop.best_loss.tolist() == [pytest.approx(0.8)]


def test_an_improvement_resets_the_patience() -> None:
    stop = stopper(patience=2)
    assert [s for _, s in feed(stop, [1.0, 1.1, 0.9, 1.0, 1.0])] == [False] * 4 + [True]


def test_an_improvement_smaller_than_min_delta_does_not_count() -> None:
    stop = stopper(patience=2, min_delta=0.1)
    history = feed(stop, [1.0, 0.95, 0.92])
    assert [i for i, _ in history] == [True, False, False]
    assert history[-1][1]
    assert stop.best_loss.tolist() == [1.0]


def test_nan_validation_loss_is_never_an_improvement() -> None:
    stop = stopper(patience=2)
    history = feed(stop, [math.nan, math.nan])
    assert history == [(False, False), (False, True)]
    assert stop.best_epoch.tolist() == [-1]


def test_disabled_members_track_their_best_but_never_stop() -> None:
    stop = EarlyStopping(
        enabled=torch.tensor([True, False]),
        patience=torch.tensor([1, 1]),
        min_delta=torch.zeros(2),
    )
    stop.update(torch.tensor([1.0, 1.0]), 0)
    improved, should_stop = stop.update(torch.tensor([2.0, 0.5]), 1)
    assert improved.tolist() == [False, True]
    assert should_stop.tolist() == [True, False]
    _, should_stop = stop.update(torch.tensor([2.0, 3.0]), 2)
    assert should_stop.tolist() == [True, False]
    assert stop.best_epoch.tolist() == [0, 1]
