"""Dropout's thinned nets (training/ensemble.py): the linear identity in float64, the masks, and
the snapshot a dropout run on the plane sends."""

from __future__ import annotations

import pytest
import torch
from reglab.errors import SpecError
from reglab.events import SnapshotEvent, SummaryEvent
from reglab.spec import RunSpec
from reglab.training.ensemble import (
    GRID,
    SIZES,
    THINNED,
    Rates,
    exact_average,
    group_means,
    member,
    sample_masks,
    thinned_outputs,
)
from reglab.training.loop import train_group
from reglab.training.models import Architecture, forward, init_net
from reglab.training.plan import Group, Member


def _float64_net(hidden: tuple[int, ...], seed: int = 3):
    arch = Architecture(2, hidden, 1, "relu", 1, "binary")
    net = init_net(arch, [seed, seed + 1])
    net.weights = [w.detach().double() for w in net.weights]
    # Biases away from 0, so that the identity is not helped by a zero term.
    net.biases = [torch.randn(b.shape, dtype=torch.float64) for b in net.biases]
    return net


def test_a_linear_nets_average_over_all_input_masks_is_its_scaled_output_in_float64() -> None:
    net = _float64_net(())
    x = torch.randn(500, 2, dtype=torch.float64) * 3
    for k in (0, 1):
        for p in (0.1, 0.5, 0.8):
            average, masks = exact_average(net, k, p, x)
            assert masks == 4
            scaled = forward(net, x)[k, :, 0]
            assert torch.allclose(average, scaled, rtol=0, atol=1e-12)


def test_a_relu_nets_average_over_input_masks_is_not_its_scaled_output() -> None:
    # The identity is about linearity: with a hidden ReLU layer the same average misses.
    net = _float64_net((16,))
    x = torch.randn(500, 2, dtype=torch.float64) * 3
    keeps = torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    prob = torch.tensor([0.25, 0.25, 0.25, 0.25], dtype=torch.float64)
    masks = [(keeps / 0.5)[:, None, :], None]
    average = (prob[:, None] * forward(member(net, 0, 4), x, masks)[:, :, 0]).sum(dim=0)
    assert (average - forward(net, x)[0, :, 0]).abs().max() > 1e-3


def test_the_average_of_many_sampled_thinned_linear_nets_tends_to_the_scaled_net() -> None:
    net = _float64_net(())
    x = torch.randn(200, 2, dtype=torch.float64)
    rates = Rates(p_input=0.5, p_hidden=0.0)
    masks = sample_masks(net, rates, 4096, torch.Generator().manual_seed(0), torch.float64)
    outputs = thinned_outputs(net, 0, masks, x)  # (S, N)
    scaled = forward(net, x)[0, :, 0]
    gaps = [(group_means(outputs, n) - scaled).abs().mean().item() for n in (1, 16, 256, 4096)]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < gaps[0] / 20


def test_a_thinned_net_keeps_one_mask_for_every_input_and_scales_what_it_keeps() -> None:
    net = _float64_net((32, 32))
    masks = sample_masks(net, Rates(0.2, 0.5), 64, torch.Generator().manual_seed(1), torch.float64)
    assert masks[0] is not None and masks[1] is not None and masks[2] is not None
    shapes = [tuple(m.shape) for m in masks if m is not None]
    assert shapes == [(64, 1, 2), (64, 1, 32), (64, 1, 32)]
    assert set(masks[1].unique().tolist()) == {0.0, 2.0}  # dropped, or kept × 1/(1 − 0.5)
    assert 0.35 < (masks[1] == 0).double().mean().item() < 0.65
    assert (masks[0] == 0).double().mean().item() < 0.35


def test_group_means_average_disjoint_groups_of_consecutive_nets() -> None:
    outputs = torch.arange(8.0).view(8, 1)
    assert group_means(outputs, 4).flatten().tolist() == [1.5, 5.5]
    assert group_means(outputs, 8).flatten().tolist() == [3.5]


SPEC = {
    "data": {"kind": "moons", "n_train": 60},
    "model": {"hidden": [8]},
    "regularization": {"dropout": 0.5},
    "train": {"epochs": 4, "snapshot_every": 2, "thinned_nets": True},
}


def _events(spec: dict) -> list:
    run = RunSpec.model_validate(spec)
    return list(train_group(Group((Member(7, "d", run),))))


def test_a_dropout_run_on_the_plane_sends_its_thinned_nets_at_every_snapshot() -> None:
    events = _events(SPEC)
    snaps = [e for e in events if isinstance(e, SnapshotEvent) and e.kind == "ensemble"]
    assert [s.epoch for s in snaps] == [2, 4]
    data = snaps[-1].data
    assert data["sizes"] == list(SIZES)
    assert len(data["full"]) == GRID and len(data["full"][0]) == GRID
    assert len(data["thinned"]) == THINNED and len(data["average"]) == len(SIZES)
    assert len(data["diff"]) == len(data["val_average"]) == len(SIZES)
    # Thinned nets differ from each other and from the full net.
    a, b = data["thinned"][0], data["thinned"][1]
    assert a != b and a != data["full"]
    assert "exact" not in data  # a hidden layer: no exact average to enumerate
    summary = next(e for e in events if isinstance(e, SummaryEvent))
    assert summary.extra["ensemble"]["diff"] == data["diff"]
    # Reproducible: the same run draws the same thinned nets.
    again = [e for e in _events(SPEC) if isinstance(e, SnapshotEvent) and e.kind == "ensemble"]
    assert again[-1].data == data


def test_a_linear_run_carries_its_exact_average_and_a_run_that_does_not_ask_none() -> None:
    linear = SPEC | {"model": {"hidden": []}, "regularization": {"input_dropout": 0.5}}
    snap = [e for e in _events(linear) if isinstance(e, SnapshotEvent) and e.kind == "ensemble"]
    assert snap[-1].data["exact"]["masks"] == 4
    assert snap[-1].data["exact"]["max_diff"] < 1e-5
    plain = SPEC | {"train": {"epochs": 4, "snapshot_every": 2}}
    assert not [e for e in _events(plain) if isinstance(e, SnapshotEvent) and e.kind == "ensemble"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"regularization": {"dropout": 0.0}}, "set regularization.dropout"),
        ({"data": {"kind": "sine", "n_train": 60}}, "2-D two-class"),
        ({"data": {"kind": "spiral", "n_train": 60, "classes": 3}}, "2-D two-class"),
    ],
)
def test_thinned_nets_without_dropout_or_off_the_plane_are_refused_with_a_sentence(
    change: dict, says: str
) -> None:
    with pytest.raises(ValueError) as info:
        RunSpec.model_validate(SPEC | change)
    assert says in str(info.value)
    assert isinstance(info.value.errors()[0]["ctx"]["error"], SpecError)  # type: ignore[attr-defined]
