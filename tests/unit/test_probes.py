"""The probes' rounding: snapshots round whole tensors at once, to the formatter's numbers."""

from __future__ import annotations

import math

import pytest
import torch
from reglab.training.probes import sig


@pytest.mark.parametrize("digits", [3, 4])
def test_rounding_a_tensor_gives_the_formatters_numbers(digits: int) -> None:
    g = torch.Generator().manual_seed(7)
    values = torch.cat(
        [
            torch.rand(50_000, generator=g),  # probabilities
            torch.randn(50_000, generator=g) * 3,  # grid axes, data points, curves
            torch.rand(10_000, generator=g) * 1e-4,
            torch.tensor([0.0, -0.0, 1.0, 0.1, 1e-3, 0.9995, 0.99951, 9.9996, 0.125, 0.0625]),
            torch.tensor([-2.7, 12345.0, 1e-30, 3e30, math.nan, math.inf, -math.inf]),
            torch.rand(5_000, generator=g) * 1e-15,  # saturated probabilities
        ]
    ).float()  # what the engine has: float32
    expected = [float(f"{v:.{digits}g}") for v in values.tolist()]
    got = sig(values, digits)
    assert len(got) == len(expected)
    for v, a, b in zip(values.tolist(), got, expected, strict=True):
        assert a == b or (math.isnan(a) and math.isnan(b)), (v, a, b)
    # Another dtype takes the formatter's own path: the same numbers.
    assert sig(values[:1000].double(), digits) == expected[:1000]
