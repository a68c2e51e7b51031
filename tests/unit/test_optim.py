"""The member-vectorized optimizers follow torch.optim's trajectory on every member.

The trajectory tests run in float64. In float32, the batched backward of a K-member stack and the
single-member backward differ in the last bit on some CPUs (AVX2 vs AVX-512 kernels, batched vs
single paths); RMSProp's g / (√v + ε) with ε = 1e-6 amplifies that ~200× over 50 steps (2e-5 was
measured on an AVX-512 machine). In float64 the same amplification of a 1e-16 difference stays
near 1e-13, so a bound of 1e-10 holds on any CPU and still catches a wrong formula (an error in
the update moves the weights by ≥ 1e-6 within a step or two).
"""

from __future__ import annotations

from typing import Literal

import pytest
import torch
from reglab.spec import OptimizerKind
from reglab.training.optim import VectorOptimizer, make_optimizer
from reglab.training.regularize import add_penalty_grads
from torch import Tensor

KINDS: list[OptimizerKind] = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
Decay = Literal["none", "decoupled", "coupled"]
K = 4
STEPS = 50
DECAY_MASK = [True, False, True, False]  # W1, b1, W2, b2: weights decay, biases never

# Per-member hyperparameters, all different, so that a wrong broadcast shows.
HYPER = {
    "lr": [0.01, 0.03, 0.002, 0.05],
    "momentum": [0.9, 0.5, 0.0, 0.8],
    "beta1": [0.9, 0.8, 0.95, 0.5],
    "beta2": [0.999, 0.99, 0.9, 0.95],
    "alpha": [0.99, 0.9, 0.8, 0.5],
    "eps": [1e-8, 1e-6, 1e-3, 1e-8],
}
LAMBDA = [0.1, 0.5, 0.0, 0.05]  # weight decay / L2 strength per member

DTYPE = torch.float64
BOUND = 1e-10  # see the module docstring

_g = torch.Generator().manual_seed(1)
X = torch.randn(8, 3, generator=_g, dtype=DTYPE)
TARGET = torch.randn(8, 2, generator=_g, dtype=DTYPE)


def stacked_params(k: int = K) -> list[Tensor]:
    """W1 (k, 3, 5), b1 (k, 1, 5), W2 (k, 5, 2), b2 (k, 1, 2): one small MLP per member."""
    g = torch.Generator().manual_seed(0)
    shapes = [(k, 3, 5), (k, 1, 5), (k, 5, 2), (k, 1, 2)]
    return [torch.randn(s, generator=g, dtype=DTYPE).requires_grad_() for s in shapes]


def backward(params: list[Tensor]) -> None:
    """A fixed loss, summed over members so that each member's gradient stays its own."""
    w1, b1, w2, b2 = params
    out = torch.tanh(X @ w1 + b1) @ w2 + b2
    ((out - TARGET) ** 2).mean(dim=(-2, -1)).sum().backward()


def ours(
    kind: OptimizerKind, params: list[Tensor], members: list[int], decay: Decay
) -> VectorOptimizer:
    h = {n: torch.tensor([v[m] for m in members], dtype=DTYPE) for n, v in HYPER.items()}
    lam = torch.tensor([LAMBDA[m] for m in members], dtype=DTYPE)
    wd = lam if decay == "decoupled" else torch.zeros_like(lam)
    return make_optimizer(kind, params, **h, weight_decay=wd, decay_mask=DECAY_MASK)


def reference(
    kind: OptimizerKind, params: list[Tensor], m: int, decay: Decay
) -> torch.optim.Optimizer:
    """torch.optim on member m alone; torch's weight_decay (on weights only) where it matches."""
    h = {n: v[m] for n, v in HYPER.items()}
    lam = LAMBDA[m]
    # torch's own weight_decay is the coupled L2, except in AdamW (decoupled); with plain SGD
    # the two are the same update, so torch's SGD(weight_decay) also checks our decoupled decay.
    torch_decays = decay == "coupled" or (decay == "decoupled" and kind in ("sgd", "adam", "adamw"))
    groups = [
        {"params": [params[0], params[2]], "weight_decay": lam if torch_decays else 0.0},
        {"params": [params[1], params[3]], "weight_decay": 0.0},
    ]
    lr = h["lr"]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lr)
    if kind in ("momentum", "nesterov"):
        # torch refuses nesterov with momentum 0, where it is plain SGD anyway.
        nesterov = kind == "nesterov" and h["momentum"] > 0
        return torch.optim.SGD(groups, lr=lr, momentum=h["momentum"], nesterov=nesterov)
    if kind == "adagrad":
        return torch.optim.Adagrad(groups, lr=lr, eps=h["eps"])
    if kind == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=h["alpha"], eps=h["eps"])
    adam = torch.optim.AdamW if decay == "decoupled" else torch.optim.Adam
    return adam(groups, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["eps"])


def reference_trajectory(kind: OptimizerKind, m: int, decay: Decay) -> list[list[Tensor]]:
    params = [p.detach()[m].clone().requires_grad_() for p in stacked_params()]
    opt = reference(kind, params, m, decay)
    # torch has no decoupled decay for these kinds: decay by hand before its step (SGDW's way).
    decay_by_hand = decay == "decoupled" and kind in ("momentum", "nesterov", "adagrad", "rmsprop")
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        backward(params)
        if decay_by_hand:
            with torch.no_grad():
                for w in (params[0], params[2]):
                    w.mul_(1 - HYPER["lr"][m] * LAMBDA[m])
        opt.step()
        trajectory.append([p.detach().clone() for p in params])
    return trajectory


def our_trajectory(kind: OptimizerKind, members: list[int], decay: Decay) -> list[list[Tensor]]:
    """Our parameters after each step, for a stack of the given members."""
    params = [p.detach()[members].clone().requires_grad_() for p in stacked_params()]
    opt = ours(kind, params, members, decay)
    lam = torch.tensor([LAMBDA[m] for m in members], dtype=DTYPE)
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        backward(params)
        if decay == "coupled":
            add_penalty_grads([params[0], params[2]], l1=torch.zeros_like(lam), l2=lam)
        opt.step(torch.ones(len(members)))
        trajectory.append([p.detach().clone() for p in params])
    return trajectory


def assert_same_trajectory(mine: list[list[Tensor]], theirs: list[list[Tensor]], row: int) -> None:
    for step, (ps, qs) in enumerate(zip(mine, theirs, strict=True)):
        for p, q in zip(ps, qs, strict=True):
            gap = (p[row] - q).abs().max().item()
            assert gap < BOUND, f"step {step + 1}: off by {gap:.2e}"


@pytest.mark.parametrize("decay", ["none", "decoupled", "coupled"])
@pytest.mark.parametrize("kind", KINDS)
def test_single_member_follows_torch_optim(kind: OptimizerKind, decay: Decay) -> None:
    assert_same_trajectory(
        our_trajectory(kind, [0], decay), reference_trajectory(kind, 0, decay), 0
    )


@pytest.mark.parametrize("decay", ["none", "decoupled", "coupled"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_member_of_a_stack_follows_torch_optim_with_its_own_hyperparameters(
    kind: OptimizerKind, decay: Decay
) -> None:
    mine = our_trajectory(kind, list(range(K)), decay)
    for m in range(K):
        assert_same_trajectory(mine, reference_trajectory(kind, m, decay), m)


def test_the_parameters_really_move() -> None:
    """Guards the equality tests above against a loss that does nothing."""
    trajectory = our_trajectory("adam", list(range(K)), "none")
    start = stacked_params()
    for p, q in zip(trajectory[-1], start, strict=True):
        assert (p - q.detach()).abs().min() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_frozen_members_do_not_move_and_others_are_unaffected(kind: OptimizerKind) -> None:
    members = list(range(K))
    free = [p.detach().clone().requires_grad_() for p in stacked_params()]
    held = [p.detach().clone().requires_grad_() for p in stacked_params()]
    free_opt, held_opt = (ours(kind, ps, members, "decoupled") for ps in (free, held))
    frozen_at_start = [p.detach()[1].clone() for p in held]
    for _ in range(10):
        for opt, ps, active in ((free_opt, free, [1, 1, 1, 1]), (held_opt, held, [1, 0, 1, 1])):
            opt.zero_grad()
            backward(ps)
            opt.step(torch.tensor(active, dtype=torch.float32))
    for p, q, start in zip(held, free, frozen_at_start, strict=True):
        assert torch.equal(p.detach()[1], start)
        torch.testing.assert_close(p.detach()[[0, 2, 3]], q.detach()[[0, 2, 3]], atol=1e-6, rtol=0)


def test_a_frozen_members_nan_gradient_does_not_reach_its_weights() -> None:
    params = stacked_params()
    opt = ours("adam", params, list(range(K)), "decoupled")
    start = [p.detach().clone() for p in params]
    backward(params)
    for p in params:
        p.grad[2] = float("nan")  # type: ignore[index]
    opt.step(torch.tensor([1.0, 1.0, 0.0, 1.0]))
    for p, s in zip(params, start, strict=True):
        assert torch.equal(p.detach()[2], s[2])
        assert torch.isfinite(p.detach()).all()


@pytest.mark.parametrize("kind", KINDS)
def test_decay_shrinks_weights_but_never_biases(kind: OptimizerKind) -> None:
    params = stacked_params()
    start = [p.detach().clone() for p in params]
    opt = ours(kind, params, list(range(K)), "decoupled")
    for p in params:
        p.grad = torch.zeros_like(p)  # no gradient: any change is the decay's
    opt.step(torch.ones(K))
    shrink = (1 - torch.tensor(HYPER["lr"]) * torch.tensor(LAMBDA)).view(K, 1, 1)
    torch.testing.assert_close(params[0].detach(), start[0] * shrink)
    torch.testing.assert_close(params[2].detach(), start[2] * shrink)
    assert torch.equal(params[1].detach(), start[1])
    assert torch.equal(params[3].detach(), start[3])


def test_adam_and_adamw_are_the_same_update() -> None:
    for decay in ("none", "decoupled"):
        a = our_trajectory("adam", list(range(K)), decay)  # type: ignore[arg-type]
        w = our_trajectory("adamw", list(range(K)), decay)  # type: ignore[arg-type]
        assert len(a) == len(w) == STEPS
        assert all(
            torch.equal(p, q)
            for ps, qs in zip(a, w, strict=True)
            for p, q in zip(ps, qs, strict=True)
        )


def test_a_decay_mask_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="one True/False per parameter"):
        make_optimizer(
            "sgd",
            stacked_params(),
            **{n: torch.tensor(v) for n, v in HYPER.items()},
            weight_decay=torch.zeros(K),
            decay_mask=[True],
        )
