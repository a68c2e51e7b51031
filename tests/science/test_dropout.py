"""Dropout at test time: the unscaled full net approximates the average of the thinned nets."""

import itertools

import pytest
import torch
from reglab.spec import RunSpec
from reglab.training.loop import Lockstep
from reglab.training.models import DropoutMasks, forward, predict
from reglab.training.plan import Group, Member

pytestmark = pytest.mark.slow


def trained(spec: dict[str, dict[str, object]]) -> Lockstep:
    run = Lockstep(Group((Member(0, "d", RunSpec.model_validate(spec)),)))
    list(run.events())
    return run


def test_a_linear_nets_evaluation_output_is_exactly_its_average_over_masks() -> None:
    # No hidden layer: output = w·(x ⊙ mask)/(1 − p) + b, linear in the mask.
    p = 0.4
    run = trained(
        {
            "data": {"kind": "sine", "n_train": 80},
            "model": {"hidden": []},
            "regularization": {"input_dropout": p},
            "train": {"epochs": 5},
        }
    )
    x = run.data.x_val
    expected = forward(run.net, x)
    # A 1-input net has two masks: keep (probability 1 − p, scaled) or drop.
    average = torch.zeros_like(expected)
    for keep in (True, False):
        mask = torch.full((1, x.shape[0], 1), 1 / (1 - p) if keep else 0.0)
        average += (1 - p if keep else p) * forward(run.net, x, [mask])
    assert torch.allclose(average, expected, atol=1e-6)


def test_a_relu_nets_evaluation_output_is_close_to_the_average_of_many_thinned_nets() -> None:
    p = 0.5
    run = trained(
        {
            "data": {"kind": "moons", "n_train": 200},
            "model": {"hidden": [64, 64]},
            "regularization": {"dropout": p},
            "train": {"epochs": 20},
        }
    )
    x = run.data.x_val
    full = predict(run.net, x)[0, :, 0]  # (N,) evaluation mode: no dropout
    masks = DropoutMasks(torch.zeros(1), torch.tensor([p]), run.net.arch.widths, seeds=[123])
    with torch.no_grad():
        samples = torch.stack(
            [
                torch.sigmoid(forward(run.net, x, masks.sample(x.shape[0])))[0, :, 0]
                for _ in range(2000)
            ]
        )  # (S, N)
    average = samples.mean(dim=0)
    gap_of_average = (average - full).abs().mean()
    gap_of_one = (samples - full).abs().mean()
    assert gap_of_average < 0.05
    assert gap_of_average < gap_of_one / 3  # one thinned net alone is far off; the average is not


def test_a_two_input_linear_nets_output_is_exactly_its_average_over_all_four_masks() -> None:
    # The same identity with two inputs: four masks, weighted by their probabilities.
    p = 0.3
    run = trained(
        {
            "data": {"kind": "moons", "n_train": 60},
            "model": {"hidden": []},
            "regularization": {"input_dropout": p},
            "train": {"epochs": 3},
        }
    )
    x = run.data.x_val
    average = torch.zeros_like(forward(run.net, x))
    for keep in itertools.product([True, False], repeat=2):
        prob = 1.0
        for k in keep:
            prob *= (1 - p) if k else p
        mask = torch.tensor([1 / (1 - p) if k else 0.0 for k in keep]).expand(1, x.shape[0], 2)
        average += prob * forward(run.net, x, [mask])
    assert torch.allclose(average, forward(run.net, x), atol=1e-6)
