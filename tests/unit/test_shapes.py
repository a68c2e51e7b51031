"""The cost estimate prices the tensors a worker really builds: one place for the sizes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from reglab.events import SnapshotEvent
from reglab.jobs import cost
from reglab.spec import RunSpec
from reglab.training.datasets import DIGITS_AVAILABLE, make_dataset
from reglab.training.loop import Lockstep
from reglab.training.models import Architecture
from reglab.training.plan import Group, Member

SPECS: list[dict[str, Any]] = [
    {"data": {"kind": "moons", "n_train": 50}, "model": {"hidden": [6, 4]}},
    {"data": {"kind": "spiral", "classes": 4, "n_train": 60}},
    {"data": {"kind": "gaussians", "classes": 2, "n_train": 40, "public_test": 17}},
    {"data": {"kind": "xor", "n_train": 30, "private_test": 45, "public_test": 9}},
    {"data": {"kind": "poly", "n_train": 25}, "model": {"activation": "maxout", "hidden": [5]}},
    {"data": {"kind": "sine", "n_train": 33, "val_fraction": 0.25, "test_fraction": 0.0}},
    {"data": {"kind": "digits", "n_train": 300}},
    # More than the 1,797 images there are: the worker caps the total and n_train shrinks.
    {"data": {"kind": "digits", "n_train": 5_000, "val_fraction": 0.2, "test_fraction": 0.2}},
]


@pytest.mark.parametrize("body", SPECS, ids=lambda b: f"{b['data']['kind']}-{b['data']['n_train']}")
def test_the_estimate_counts_the_examples_and_layers_the_worker_builds(
    body: dict[str, Any],
) -> None:
    spec = RunSpec.model_validate(body)
    data = make_dataset(spec.data)
    held = data.x_val.shape[0] + data.x_test.shape[0] + data.x_public.shape[0]
    assert cost.split_sizes(spec) == (data.x_train.shape[0], held)
    assert cost.shape(spec) == (data.n_inputs, data.n_outputs)
    arch = Architecture.from_spec(
        spec.model, n_inputs=data.n_inputs, n_outputs=data.n_outputs, task=data.task
    )
    assert cost.layers(spec) == arch.shapes


def test_a_digits_spec_past_the_images_there_are_is_priced_at_the_capped_size() -> None:
    capped = RunSpec.model_validate(SPECS[-1])
    n_train, held = cost.split_sizes(capped)
    assert n_train + held == DIGITS_AVAILABLE and n_train < capped.data.n_train
    # Asking for more than there is costs what training on all there is costs, not more.
    at_cap = RunSpec.model_validate({"data": {**SPECS[-1]["data"], "n_train": n_train}})
    gflops = 10.0
    assert cost.estimate([capped], gflops=gflops) == cost.estimate([at_cap], gflops=gflops)


def test_a_run_asking_for_thinned_nets_is_priced_for_what_its_snapshots_compute_and_store() -> None:
    # The lesson's dropout variant, cut short: two ensemble snapshots really made and stored.
    body: dict[str, Any] = {
        "data": {"kind": "moons", "n_train": 200},
        "model": {"hidden": [64, 64]},
        "regularization": {"dropout": 0.5},
        "train": {"epochs": 2, "snapshot_every": 1},
    }
    plain = RunSpec.model_validate(body)
    body["train"]["thinned_nets"] = True
    thinned = RunSpec.model_validate(body)
    run = Lockstep(Group((Member(0, "d", thinned),)))
    made = [
        len(json.dumps(e.to_dict()))
        for e in run.events()
        if isinstance(e, SnapshotEvent) and e.kind == "ensemble"
    ]
    assert made, "the run made no ensemble snapshot"
    before, after = cost.estimate([plain], gflops=25), cost.estimate([thinned], gflops=25)
    # Each snapshot the estimate allows for is stored at most ENSEMBLE_BYTES.
    assert max(made) <= cost.ENSEMBLE_BYTES
    assert after.stored_bytes - before.stored_bytes >= len(made) * cost.ENSEMBLE_BYTES
    # 257 nets over the plane and the validation set, each snapshot: far more than training
    # this short run, so the time estimate must grow by a multiple, not a rounding.
    assert after.seconds > 2 * before.seconds
    assert after.memory_bytes >= before.memory_bytes
