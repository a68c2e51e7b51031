"""Data sets come out the same for the same seed, split by the fractions, standardized on the
training split only, with label noise on training labels only."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest
import torch
from reglab.spec import DataKind, DataSpec
from reglab.training.datasets import DIGITS_AVAILABLE, Dataset, make_dataset

KINDS: list[DataKind] = list(get_args(DataKind))
CLASSIFICATION: list[DataKind] = [k for k in KINDS if k not in ("poly", "sine")]


def splits(d: Dataset) -> list[torch.Tensor]:
    return [d.x_train, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_the_promised_sizes_shapes_and_types(kind: DataKind) -> None:
    spec = DataSpec(kind=kind, n_train=140, val_fraction=0.2, test_fraction=0.1, classes=4)
    d = make_dataset(spec)
    # total = 140 / 0.7 = 200: val 40, test 20.
    assert [len(t) for t in splits(d)] == [140, 140, 40, 40, 20, 20]
    assert d.task == spec.task
    assert d.x_train.dtype == torch.float32 and d.x_train.shape[1] == d.n_inputs
    assert d.n_inputs == {"digits": 64, "poly": 1, "sine": 1}.get(kind, 2)
    if d.task == "multiclass":
        assert d.y_train.dtype == torch.int64 and d.y_train.dim() == 1
        assert d.n_outputs == (10 if kind == "digits" else 4)
        assert set(d.y_train.tolist()) <= set(range(d.n_outputs))
    else:
        assert d.y_train.dtype == torch.float32 and d.y_train.shape == (140, 1)
        assert d.n_outputs == 1
    if d.task == "binary":
        assert set(d.y_train.flatten().tolist()) == {0.0, 1.0}
    assert len(d.x_range) == d.n_inputs
    everything = torch.cat([d.x_train, d.x_val, d.x_test])
    for i, (lo, hi) in enumerate(d.x_range):
        assert lo < everything[:, i].min() and everything[:, i].max() < hi


def test_two_class_spiral_and_gaussians_are_binary() -> None:
    for kind in ("spiral", "gaussians"):
        d = make_dataset(DataSpec(kind=kind, classes=2))  # type: ignore[arg-type]
        assert d.task == "binary" and d.n_outputs == 1 and d.y_train.shape[1] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(kind: DataKind) -> None:
    a, b = make_dataset(DataSpec(kind=kind)), make_dataset(DataSpec(kind=kind))
    c = make_dataset(DataSpec(kind=kind, seed=1))
    assert all(torch.equal(s, t) for s, t in zip(splits(a), splits(b), strict=True))
    assert not torch.equal(a.x_train, c.x_train)


def test_the_data_are_the_same_in_another_process() -> None:
    code = (
        "from reglab.spec import DataSpec; from reglab.training.datasets import make_dataset;"
        "d = make_dataset(DataSpec(kind='spiral', seed=7, label_noise=0.2));"
        "print(repr(d.x_train.double().sum().item()), int(d.y_train.sum()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    d = make_dataset(DataSpec(kind="spiral", seed=7, label_noise=0.2))
    assert out == [repr(d.x_train.double().sum().item()), str(int(d.y_train.sum()))]


@pytest.mark.parametrize("kind", ["moons", "digits", "poly"])
def test_inputs_are_standardized_with_the_training_split_only(kind: DataKind) -> None:
    d = make_dataset(DataSpec(kind=kind, n_train=300))
    varying = d.x_train.std(dim=0) > 0  # digits has blank pixels, which stay 0
    assert d.x_train.mean(dim=0).abs().max() < 1e-5
    torch.testing.assert_close(
        d.x_train[:, varying].std(dim=0, unbiased=False), torch.ones(int(varying.sum()))
    )
    # Fitted on train only: the validation split keeps its own small offset.
    assert d.x_val.mean(dim=0).abs().max() > 1e-3


def test_regression_targets_are_standardized_on_train() -> None:
    d = make_dataset(DataSpec(kind="sine", n_train=300))
    assert abs(d.y_train.mean().item()) < 1e-5
    assert abs(d.y_train.std(unbiased=False).item() - 1) < 1e-5
    assert abs(d.y_val.mean().item()) > 1e-3


@pytest.mark.parametrize("kind", ["moons", "spiral", "digits"])
def test_label_noise_flips_only_training_labels(kind: DataKind) -> None:
    clean = make_dataset(DataSpec(kind=kind, n_train=200, classes=3))
    noisy = make_dataset(DataSpec(kind=kind, n_train=200, classes=3, label_noise=0.2))
    for s, t in zip(splits(clean), splits(noisy), strict=True):
        if s is not clean.y_train:
            assert torch.equal(s, t)
    changed = (clean.y_train != noisy.y_train).flatten()
    assert int(changed.sum()) == 40  # 0.2 × 200, each to a different class


def test_more_label_noise_flips_a_superset_of_the_labels() -> None:
    clean, less, more = (
        make_dataset(DataSpec(kind="gaussians", label_noise=share)) for share in (0.0, 0.1, 0.3)
    )
    flipped_less = clean.y_train != less.y_train
    flipped_more = clean.y_train != more.y_train
    assert bool((flipped_more | ~flipped_less).all())
    assert int(flipped_more.sum()) > int(flipped_less.sum())


def test_more_input_noise_moves_the_same_points_further() -> None:
    calm = make_dataset(DataSpec(kind="xor", noise=0.0))
    noisy = make_dataset(DataSpec(kind="xor", noise=0.5))
    assert torch.equal(calm.y_train, noisy.y_train)
    assert not torch.equal(calm.x_train, noisy.x_train)


def test_digits_has_ten_classes_and_caps_the_split_at_what_exists() -> None:
    d = make_dataset(DataSpec(kind="digits", n_train=5000, val_fraction=0.2, test_fraction=0.2))
    assert d.n_outputs == 10 and set(d.y_train.tolist()) == set(range(10))
    sizes = [len(d.x_train), len(d.x_val), len(d.x_test)]
    assert sum(sizes) == DIGITS_AVAILABLE
    assert sizes[1:] == [round(0.2 * DIGITS_AVAILABLE)] * 2


def test_a_higher_degree_polynomial_is_a_different_curve() -> None:
    low = make_dataset(DataSpec(kind="poly", degree=1, noise=0.0))
    high = make_dataset(DataSpec(kind="poly", degree=9, noise=0.0))
    # Degree 1 with no noise is a straight line: y is exactly affine in x.
    x, y = low.x_train.double(), low.y_train.double()
    fit = torch.linalg.lstsq(torch.cat([x, torch.ones_like(x)], dim=1), y).solution
    assert (torch.cat([x, torch.ones_like(x)], dim=1) @ fit - y).abs().max() < 1e-4
    x9, y9 = high.x_train.double(), high.y_train.double()
    fit9 = torch.linalg.lstsq(torch.cat([x9, torch.ones_like(x9)], dim=1), y9).solution
    assert (torch.cat([x9, torch.ones_like(x9)], dim=1) @ fit9 - y9).abs().max() > 0.1
