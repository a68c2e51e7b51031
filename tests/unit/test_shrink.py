"""L1 against L2 by weight size, on the engine's own penalty code: one plain-SGD update's shrink."""

from __future__ import annotations

import torch
from reglab.training.regularize import add_penalty_grads, proximal_l1

# The l1-vs-l2 lesson's strengths and rate: they cross at |w| = λ1 / λ2 = 0.5.
ETA, L1, L2 = 0.1, 0.005, 0.01


def _shrink_l2(w: torch.Tensor) -> torch.Tensor:
    """What one SGD step of the L2 penalty alone takes from |w| (the loss's gradient left out)."""
    w = w.clone().requires_grad_(True)
    w.grad = torch.zeros_like(w)
    add_penalty_grads([w], l1=torch.zeros(1), l2=torch.tensor([L2]))
    with torch.no_grad():
        return w.abs() - (w - ETA * w.grad).abs()


def _shrink_l1(w: torch.Tensor) -> torch.Tensor:
    """What one proximal L1 step takes from |w|."""
    after = w.clone()
    proximal_l1([after], torch.tensor([ETA * L1]))
    return w.abs() - after.abs()


def test_l2_takes_a_share_l1_a_fixed_amount_and_they_cross_at_l1_over_l2() -> None:
    sizes = torch.tensor([[0.0002, 0.01, 0.1, 0.3, 0.45, 0.55, 0.8, 1.5, -1.5, -0.3]])
    l2, l1 = _shrink_l2(sizes), _shrink_l1(sizes)
    # L2: a line through zero, η·λ2·|w|; L1: flat at η·λ1, but never past zero.
    assert torch.allclose(l2, ETA * L2 * sizes.abs(), rtol=1e-3, atol=1e-6)
    assert torch.allclose(l1, torch.clamp(sizes.abs(), max=ETA * L1), atol=1e-6)
    crossing = L1 / L2
    above, below = sizes.abs() > crossing, sizes.abs() < crossing
    assert bool((l2[above] > l1[above]).all()), "above the crossing L2 shrinks a weight faster"
    assert bool((l1[below] > l2[below]).all()), "below it L1 does"


def test_the_thirds_split_each_members_weights_by_initial_size_and_follow_their_mean() -> None:
    from reglab.training.probes import mean_by_third, size_thirds

    # Two members, two layers: member 0's weights 1…6 spread over both, member 1's reversed.
    w1 = torch.tensor([[[1.0, -2.0]], [[6.0, 5.0]]])
    w2 = torch.tensor([[[3.0], [-4.0], [5.0], [6.0]], [[4.0], [-3.0], [2.0], [1.0]]])
    thirds = size_thirds([w1, w2])
    assert thirds.tolist() == [[0, 0, 1, 1, 2, 2], [2, 2, 1, 1, 0, 0]]
    assert mean_by_third([w1, w2], thirds) == [[1.5, 3.5, 5.5], [1.5, 3.5, 5.5]]
    # Later the same weights are followed by their starting third, whatever their size now.
    halved = mean_by_third([w1 / 2, w2 * 0], thirds)
    assert halved == [[0.75, 0.0, 0.0], [0.0, 0.0, 2.75]]
