"""The stacked MLP: members are independent, equal seeds give equal nets, dropout is fair."""

import pytest
import torch
import torch.nn.functional as F
from reglab.spec import ModelSpec
from reglab.training.models import (
    Architecture,
    DropoutMasks,
    evaluate,
    forward,
    hits,
    init_net,
    losses,
)


def arch(
    activation: str = "relu", task: str = "binary", hidden: tuple[int, ...] = (8, 8)
) -> Architecture:
    n_out = {"binary": 1, "multiclass": 4, "regression": 1}[task]
    pieces = 3 if activation == "maxout" else 1
    return Architecture(2, hidden, n_out, activation, pieces, task)  # type: ignore[arg-type]


def test_equal_init_seeds_give_equal_weights_in_any_group() -> None:
    group = init_net(arch(), [5, 7, 5])
    alone = init_net(arch(), [5])
    for w, w1 in zip(group.parameters(), alone.parameters(), strict=True):
        assert torch.equal(w[0], w[2])
        assert torch.equal(w[0], w1[0])
        assert not torch.equal(w[0], w[1]) or w.abs().sum() == 0  # biases start at zero


def test_architecture_from_spec_counts_maxout_pieces() -> None:
    a = Architecture.from_spec(
        ModelSpec(hidden=[5, 4], activation="maxout", maxout_pieces=3),
        n_inputs=2,
        n_outputs=1,
        task="binary",
    )
    assert a.shapes == [(2, 15), (5, 12), (4, 1)]
    assert a.widths == [2, 5, 4]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_member_computes_the_same_alone_as_in_a_group(activation: str, task: str) -> None:
    x = torch.randn(37, 2)
    group = forward(init_net(arch(activation, task), [3, 1, 2]), x)
    alone = forward(init_net(arch(activation, task), [1]), x)
    assert group.shape == (3, 37, arch(activation, task).n_outputs)
    assert torch.equal(group[1], alone[0])


def test_maxout_with_a_zero_piece_is_relu() -> None:
    relu = init_net(arch("relu", hidden=(6,)), [0])
    maxout = init_net(Architecture(2, (6,), 1, "maxout", 2, "binary"), [0])
    with torch.no_grad():
        w = maxout.weights[0].view(1, 2, 6, 2)
        w[..., 0] = relu.weights[0]
        w[..., 1] = 0  # the second piece of every unit is the constant 0
        maxout.biases[0].zero_()
        maxout.weights[1].copy_(relu.weights[1])
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(5))
    # 1e-6: a 12-wide and a 6-wide float32 matmul may round a unit's sum differently (an ulp or
    # two); a wrong maxout would differ by the size of a weight.
    torch.testing.assert_close(forward(maxout, x), forward(relu, x), atol=1e-6, rtol=0)


def test_binary_loss_and_hits_match_torch_for_each_member() -> None:
    out = torch.randn(2, 9, 1)
    y = (torch.rand(9, 1) > 0.5).float()
    per_member = losses(out, y, "binary")
    for k in range(2):
        assert torch.isclose(per_member[k], F.binary_cross_entropy_with_logits(out[k], y))
    right = hits(out, y, "binary")
    assert right is not None
    assert right.tolist() == [int(((out[k] > 0).float() == y).sum()) for k in range(2)]


def test_multiclass_loss_matches_torch_for_each_member() -> None:
    out = torch.randn(3, 11, 4)
    y = torch.randint(0, 4, (11,))
    per_member = losses(out, y, "multiclass")
    for k in range(3):
        assert torch.isclose(per_member[k], F.cross_entropy(out[k], y))


def test_regression_has_mse_and_no_accuracy() -> None:
    net = init_net(arch(task="regression"), [0, 1])
    x, y = torch.randn(30, 2), torch.randn(30, 1)
    loss, acc = evaluate(net, x, y)
    assert acc is None
    expected = ((forward(net, x) - y) ** 2).mean(dim=(1, 2))
    assert torch.allclose(loss, expected)


def test_dropout_mask_keeps_p0_members_exact_and_scales_the_others() -> None:
    p = torch.tensor([0.0, 0.5])
    masks = DropoutMasks(torch.zeros(2), p, widths=[2, 200], seeds=[1, 1]).sample(64)
    assert masks[0] is None  # nobody drops inputs, so that site draws nothing
    hidden = masks[1]
    assert hidden is not None and hidden.shape == (2, 64, 200)
    assert torch.equal(hidden[0], torch.ones(64, 200))
    assert set(hidden[1].unique().tolist()) == {0.0, 2.0}
    assert 0.45 < float((hidden[1] == 0).float().mean()) < 0.55


def test_dropout_masks_are_resampled_every_update() -> None:
    masks = DropoutMasks(torch.zeros(1), torch.tensor([0.5]), widths=[2, 50], seeds=[0])
    first, second = masks.sample(16)[1], masks.sample(16)[1]
    assert first is not None and second is not None
    assert not torch.equal(first, second)


def test_a_member_draws_the_same_dropout_masks_alone_or_in_a_group() -> None:
    group = DropoutMasks(
        torch.tensor([0.3, 0.0]), torch.tensor([0.0, 0.5]), [2, 10, 10], seeds=[4, 4]
    )
    alone = DropoutMasks(torch.tensor([0.0]), torch.tensor([0.5]), [2, 10, 10], seeds=[4])
    for _ in range(3):
        g, a = group.sample(8), alone.sample(8)
        for site in (1, 2):
            gs, as_ = g[site], a[site]
            assert gs is not None and as_ is not None
            assert torch.equal(gs[1], as_[0])


def test_a_lower_dropout_rate_drops_a_subset_of_a_higher_one() -> None:
    masks = DropoutMasks(torch.zeros(2), torch.tensor([0.2, 0.6]), [2, 100], seeds=[0, 0]).sample(
        32
    )[1]
    assert masks is not None
    dropped_low, dropped_high = masks[0] == 0, masks[1] == 0
    assert bool((dropped_low <= dropped_high).all())
    assert int(dropped_low.sum()) < int(dropped_high.sum())


def test_a_replicate_draws_its_own_seeds_masks_alone_or_in_a_group() -> None:
    p = torch.tensor([0.5, 0.5, 0.2])
    group = DropoutMasks(torch.zeros(3), p, [2, 10], seeds=[4, 9, 4])
    alone = DropoutMasks(torch.zeros(1), torch.tensor([0.5]), [2, 10], seeds=[9])
    for _ in range(3):
        g, a = group.sample(8)[1], alone.sample(8)[1]
        assert g is not None and a is not None
        assert torch.equal(g[1], a[0])
        assert not torch.equal(g[0], g[1])  # another seed, other masks
