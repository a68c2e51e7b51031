"""The sizes of what training builds from a spec, worked out without torch: splits, layers, grids.

training/datasets.py and training/models.py build tensors of these sizes; jobs/cost.py prices a
group from them before it runs, in the API process, which never imports torch. Both read this
one place, so an estimate cannot drift from what a worker builds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from reglab.spec import CLASSIFICATION_2D, REGRESSION_1D, DataSpec, ModelSpec

# sklearn's 8×8 digits: images shipped inside scikit-learn, 64 pixels each, 10 classes.
DIGITS_AVAILABLE = 1797
DIGITS_PIXELS = 64
DIGITS_CLASSES = 10
GRID = 40  # a decision-boundary snapshot: GRID × GRID points
CURVE_POINTS = 120  # a fitted-curve snapshot's samples
# Evaluation splits its inputs so that one chunk's activations stay around 16 MB.
EVAL_FLOATS = 1 << 22
# A dropout-ensemble snapshot (training/ensemble.py, a run asking train.thinned_nets): this
# many thinned nets and the scaled one, over the GRID × GRID plane and the validation set, a
# chunk of about EVAL_FLOATS activations at a time.
THINNED_NETS = 256


def split_sizes(spec: DataSpec) -> tuple[int, int, int]:
    """(train, val, test) counts: val and test are their fractions of the whole, but a
    challenge's test split (`private_test`) has the size it names, and digits has only
    DIGITS_AVAILABLE images: a larger total is capped and split by the fractions, so n_train
    shrinks. (A challenge's `public_test` points come on top.)"""
    total = round(spec.n_train / (1 - spec.val_fraction - spec.test_fraction))
    if spec.private_test:
        return spec.n_train, round(total * spec.val_fraction), spec.private_test
    if spec.kind == "digits" and total > DIGITS_AVAILABLE:
        total = DIGITS_AVAILABLE
        n_val = round(total * spec.val_fraction)
        n_test = round(total * spec.test_fraction)
        return total - n_val - n_test, n_val, n_test
    return spec.n_train, round(total * spec.val_fraction), round(total * spec.test_fraction)


def inputs_outputs(spec: DataSpec) -> tuple[int, int]:
    """(inputs, outputs) of the network for this data: one output unless multiclass."""
    if spec.kind in REGRESSION_1D:
        return 1, 1
    if spec.kind == "digits":
        return DIGITS_PIXELS, DIGITS_CLASSES
    if spec.kind in CLASSIFICATION_2D and spec.task == "multiclass":
        return 2, spec.classes
    return 2, 1


def pieces_of(model: ModelSpec) -> int:
    """Linear pieces per unit: maxout's, or 1 for the other activations."""
    return model.maxout_pieces if model.activation == "maxout" else 1


def layer_shapes(
    n_inputs: int, hidden: Sequence[int], n_outputs: int, pieces: int
) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each weight matrix; a maxout layer has units × pieces outputs."""
    widths = [n_inputs, *hidden]
    out = [(a, b * pieces) for a, b in itertools.pairwise(widths)]
    return [*out, (widths[-1], n_outputs)]
