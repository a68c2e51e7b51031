"""The lecture's data sets, generated from a DataSpec: seeded, split, standardized on train only.

Everything comes from one numpy Generator seeded by spec.seed (sklearn's generators get seeds drawn
from it), so a spec gives the same tensors in every process. The draws happen in a fixed order,
and noise only scales them: two specs that differ only in `noise` share their underlying points,
and a larger `label_noise` flips a superset of the labels a smaller one flips.

Conventions, per kind:
- moons, circles (sklearn), xor, spiral (`classes` arms), gaussians (`classes` blobs, sklearn's
  make_blobs on a circle of radius 2): `noise` is the std of Gaussian noise on the inputs (for
  gaussians, the blobs' std).
- poly, sine: 1-D regression on x uniform in [−1, 1]. The clean curve (a random Legendre series of
  degree `degree`, or sin 2πx) is scaled to unit std; `noise` is the std of noise on the *target*,
  in those units. Targets are then standardized with the training mean and std, like the inputs.
- digits: sklearn's 8×8 digits (1,797 images, shipped inside scikit-learn). When the requested
  size exceeds them, the total is capped at 1,797 and split by the fractions, so n_train shrinks.
  `noise` is Gaussian noise on the pixel values (0–16).

`label_noise` flips that share of the *training* labels (classification only; never val or test):
binary labels to the other class, multiclass labels to a random other class.

A challenge's data (reglab/challenges.py) has four splits: `public_test` points more are drawn as
a public test split, and `private_test`, when set, is the size of the test split (its private
one). With both 0 a spec draws exactly what it drew before they existed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from reglab.shapes import DIGITS_AVAILABLE, split_sizes
from reglab.spec import DataSpec, Task

# Re-exported: the sizes live in reglab/shapes.py, which the cost estimate reads without torch.
__all__ = ["DIGITS_AVAILABLE", "Dataset", "make_dataset", "split_sizes"]

_MARGIN = 0.1  # of each input's span, added on both sides of x_range

Array = NDArray[np.float64]
Labels = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test tensors of one data set, inputs standardized on train.

    x: float32 (N, d). y: binary float32 (N, 1) of 0/1; multiclass int64 (N,); regression
    float32 (N, 1), standardized. x_range: per input, (lo, hi) over all splits plus a margin, in
    standardized units: the window for decision-boundary grids and fitted-curve plots.
    """

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor
    x_public: Tensor  # a challenge's public test split; no rows when the spec asks for none
    y_public: Tensor
    task: Task
    n_inputs: int
    n_outputs: int
    x_range: tuple[tuple[float, float], ...]


def make_dataset(spec: DataSpec) -> Dataset:
    """Generate, split, corrupt the training labels, and standardize the data set `spec` names."""
    rng = np.random.default_rng(spec.seed)
    n_train, n_val, n_test = split_sizes(spec)
    n = n_train + n_val + n_test + spec.public_test
    x, y, n_classes = _generate(spec, n, rng)

    order = rng.permutation(n)
    parts = np.split(order, [n_train, n_train + n_val, n_train + n_val + n_test])
    xs = [x[idx] for idx in parts]
    ys = [y[idx] for idx in parts]
    task = spec.task
    if task != "regression":
        ys[0] = _flip_labels(ys[0].astype(np.int64), spec.label_noise, n_classes, rng)

    mean, std = xs[0].mean(axis=0), xs[0].std(axis=0)
    std[std < 1e-12] = 1.0  # a constant input (digits' blank border pixels) stays 0, not NaN
    xs = [(part - mean) / std for part in xs]
    if task == "regression":
        y_mean, y_std = ys[0].mean(), ys[0].std()
        ys = [(part - y_mean) / (y_std if y_std > 1e-12 else 1.0) for part in ys]

    x_all = np.concatenate(xs)
    lo, hi = x_all.min(axis=0), x_all.max(axis=0)
    margin = np.maximum(_MARGIN * (hi - lo), 0.5 * (hi == lo))
    x_range = tuple((float(a), float(b)) for a, b in zip(lo - margin, hi + margin, strict=True))

    x_t = [torch.from_numpy(part.astype(np.float32)) for part in xs]
    y_t = [_labels_tensor(part, task) for part in ys]
    return Dataset(
        x_train=x_t[0],
        y_train=y_t[0],
        x_val=x_t[1],
        y_val=y_t[1],
        x_test=x_t[2],
        y_test=y_t[2],
        x_public=x_t[3],
        y_public=y_t[3],
        task=task,
        n_inputs=x.shape[1],
        n_outputs=n_classes if task == "multiclass" else 1,
        x_range=x_range,
    )


def _labels_tensor(y: NDArray[np.generic], task: Task) -> Tensor:
    if task == "multiclass":
        return torch.from_numpy(y.astype(np.int64))
    return torch.from_numpy(y.astype(np.float32)).reshape(-1, 1)


def _flip_labels(y: Labels, share: float, n_classes: int, rng: np.random.Generator) -> Labels:
    """Flip round(share·len(y)) labels, each to a different class; draws do not depend on share."""
    order = rng.permutation(len(y))
    shift = rng.integers(1, n_classes, size=len(y))  # k → (k + shift) mod C is never k
    flipped = order[: round(share * len(y))]
    y = y.copy()
    y[flipped] = (y[flipped] + shift[flipped]) % n_classes
    return y


def _generate(
    spec: DataSpec, n: int, rng: np.random.Generator
) -> tuple[Array, NDArray[np.generic], int]:
    """n examples (x (n, d), y (n,)) of the kind, and the number of classes (1: regression)."""
    kind = spec.kind
    if kind in ("moons", "circles", "gaussians", "digits"):
        # scikit-learn costs about a second to import: only the kinds that use it pay.
        from sklearn import datasets as sk

        seed = int(rng.integers(2**31 - 1))
        if kind == "moons":
            x, y = sk.make_moons(n, noise=spec.noise, random_state=seed)
            return x, y, 2
        if kind == "circles":
            x, y = sk.make_circles(n, noise=spec.noise, factor=0.5, random_state=seed)
            return x, y, 2
        if kind == "gaussians":
            angles = 2 * math.pi * np.arange(spec.classes) / spec.classes
            centers = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
            x, y = sk.make_blobs(n, centers=centers, cluster_std=spec.noise, random_state=seed)
            return x, y, spec.classes
        images, digits = sk.load_digits(return_X_y=True)
        chosen = np.random.default_rng(seed).permutation(len(digits))[:n]
        x = images[chosen] + spec.noise * rng.standard_normal((n, images.shape[1]))
        return x, digits[chosen], 10
    if kind == "xor":
        x = rng.uniform(-1.0, 1.0, size=(n, 2))
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
        return x + spec.noise * rng.standard_normal((n, 2)), y, 2
    if kind == "spiral":
        return (*_spiral(n, spec.classes, spec.noise, rng), spec.classes)
    return (*_regression(spec, n, rng), 1)


def _spiral(n: int, classes: int, noise: float, rng: np.random.Generator) -> tuple[Array, Labels]:
    """`classes` interleaved arms of 1.5 turns out to radius 4, like TensorFlow Playground's."""
    y = np.arange(n) % classes
    t = rng.uniform(0.0, 1.0, size=n)
    angle = 2 * math.pi * (1.5 * t + y / classes)
    x = 4.0 * t[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return x + noise * rng.standard_normal((n, 2)), y


def _regression(spec: DataSpec, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """x uniform in [−1, 1], shape (n, 1); y the clean curve, scaled to unit std, plus noise."""
    curve: Callable[[Array], Array]
    if spec.kind == "poly":
        # Legendre, not monomial, coefficients: each degree adds its own wiggle on [−1, 1]
        # instead of hiding near ±1, so the degree is what a student sees.
        curve = np.polynomial.Legendre(rng.standard_normal(spec.degree + 1))
    else:
        curve = _sine
    x = rng.uniform(-1.0, 1.0, size=n)
    on_grid = curve(np.linspace(-1.0, 1.0, 1001))
    clean = (curve(x) - on_grid.mean()) / on_grid.std()
    return x[:, None], clean + spec.noise * rng.standard_normal(n)


def _sine(x: Array) -> Array:
    return np.sin(2 * math.pi * x)
