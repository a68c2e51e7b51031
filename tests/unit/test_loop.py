"""The lockstep engine: members train as if alone, freeze on their own, and tell it in order."""

from itertools import pairwise
from typing import Any

import pytest
import torch
from reglab.events import EpochEvent, Event, SnapshotEvent, StatusEvent, SummaryEvent
from reglab.spec import RunSpec
from reglab.training.loop import Lockstep, train_bursts, train_group
from reglab.training.plan import Group, Member
from reglab.training.probes import GRID, HIST_EDGES


def spec(**sections: dict[str, Any]) -> RunSpec:
    base: dict[str, dict[str, Any]] = {
        "data": {"n_train": 60, "noise": 0.3},
        "model": {"hidden": [16, 12]},
        "train": {"epochs": 6, "batch_size": 16, "snapshot_every": 3},
    }
    for key, values in sections.items():
        base.setdefault(key, {}).update(values)
    return RunSpec.model_validate(base)


def group(*specs: RunSpec) -> Group:
    return Group(tuple(Member(100 + i, f"run{i}", s) for i, s in enumerate(specs)))


def of(events: list[Event], run_id: int, kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind) and e.run_id == run_id]


VARIANTS = [
    {},
    {"regularization": {"l2": 0.02}},
    {"regularization": {"l1": 0.002}},
    {"regularization": {"l1": 0.004, "l1_mode": "proximal"}},
    {"regularization": {"dropout": 0.3, "input_dropout": 0.1}},
    {"regularization": {"weight_decay": 0.1}, "train": {"epochs": 4}},
]


# Alike to 1e-6: members are computed by the same kernels alone or in a group, except that an
# elementwise optimizer step over the (K, P) buffer may round a member's last few weights through
# a vector or a scalar tail depending on K (1 ulp per step; ≤ 2.4e-7 measured after 6 epochs on
# AVX-512, AVX2 and the portable kernels). A wrong batch order, mask or seed moves them by > 1e-3.
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("replicates", [1, 3])
def test_a_lockstep_member_trains_exactly_like_the_same_run_alone(
    kind: str, replicates: int
) -> None:
    """Variants, and with replicates=3 their replicates (own seeds: own batches and masks)."""
    specs = [
        spec(**{"optimizer": {"kind": kind, "lr": 0.05}, **v}).replicate(r)
        for r in range(replicates)
        for v in VARIANTS
    ]
    together = Lockstep(group(*specs))
    events = list(together.events())
    for i, s in enumerate(specs):
        alone = Lockstep(group(s))
        alone_events = list(alone.events())
        mine = [e.val_loss for e in of(events, 100 + i, EpochEvent)]
        solo = [e.val_loss for e in of(alone_events, 100, EpochEvent)]
        assert mine == pytest.approx(solo, abs=1e-6)
        for p, q in zip(together.net.parameters(), alone.net.parameters(), strict=True):
            assert torch.allclose(p[i], q[0], rtol=0, atol=1e-6)


def test_replicates_train_apart_from_each_other() -> None:
    """Guards the test above: replicates really get other weights, batches and masks."""
    base = spec(regularization={"dropout": 0.3})
    run = Lockstep(group(base, base.replicate(1)))
    events = list(run.events())
    first, second = (of(events, rid, EpochEvent)[-1].val_loss for rid in (100, 101))
    assert abs(first - second) > 1e-3
    same_start = Lockstep(group(base, base.replicate(1).model_copy(update={"model": base.model})))
    list(same_start.events())
    w = same_start.net.weights[0]
    assert not torch.allclose(w[0], w[1], atol=1e-3)  # one start, other batches and masks


def test_events_follow_the_contract_order() -> None:
    events = list(train_group(group(spec(), spec(train={"epochs": 4}))))
    assert [type(e) for e in events[:2]] == [StatusEvent, StatusEvent]
    assert all(e.status == "running" for e in events[:2])  # type: ignore[union-attr]
    for run_id, epochs in ((100, 6), (101, 4)):
        mine = [e for e in events if e.run_id == run_id]
        assert [e.epoch for e in mine if isinstance(e, EpochEvent)] == list(range(1, epochs + 1))
        assert isinstance(mine[-2], StatusEvent) and mine[-2].status == "completed"
        assert isinstance(mine[-1], SummaryEvent) and mine[-1].epochs_run == epochs
        last_epoch = max(i for i, e in enumerate(mine) if isinstance(e, EpochEvent))
        snaps = [i for i, e in enumerate(mine) if isinstance(e, SnapshotEvent)]
        assert last_epoch < snaps[-1] < len(mine) - 2  # the last snapshot before the end


def test_events_come_in_bursts_one_epochs_metrics_together_then_its_pictures_and_endings() -> None:
    """What a worker hands on at once (jobs/local.py): the running statuses, then per epoch
    every live member's metrics, then that epoch's snapshots and endings; flattened, the same
    events as `train_group` says one by one."""
    specs = [spec(), spec(train={"epochs": 4}), spec(regularization={"l2": 0.02})]
    bursts = list(train_bursts(group(*specs)))
    assert [type(e) for e in bursts[0]] == [StatusEvent] * 3
    metrics = [b for b in bursts if isinstance(b[0], EpochEvent)]
    assert [len(b) for b in metrics] == [3, 3, 3, 3, 2, 2]  # one run ends after epoch 4
    for burst in metrics:
        assert all(isinstance(e, EpochEvent) and e.epoch == burst[0].epoch for e in burst)
    for before, after in pairwise(bursts):
        if not isinstance(after[0], EpochEvent):  # pictures and endings: after their epoch's
            assert isinstance(before[0], EpochEvent)
            assert all(getattr(e, "epoch", before[0].epoch) == before[0].epoch for e in after)

    def plain(events: list[Event]) -> list[Any]:
        return [{**e.to_dict(), "seconds": 0} for e in events]

    assert plain([e for b in bursts for e in b]) == plain(list(train_group(group(*specs))))


def test_a_member_with_fewer_epochs_freezes_while_the_other_goes_on() -> None:
    short = spec(train={"epochs": 2})
    run = Lockstep(group(short, spec()))
    list(run.events())
    alone = Lockstep(group(short))
    list(alone.events())
    for p, q in zip(run.net.parameters(), alone.net.parameters(), strict=True):
        assert torch.equal(p[0], q[0])


def test_should_stop_cancels_one_run_and_the_others_go_on() -> None:
    stopped: list[int] = []

    def should_stop(run_id: int) -> bool:
        return run_id == 101 and len(stopped) > 0

    events = []
    for event in train_group(group(spec(), spec()), should_stop):
        events.append(event)
        if isinstance(event, EpochEvent) and event.epoch == 2:
            stopped.append(event.run_id)
    cancelled = of(events, 101, StatusEvent)[-1]
    assert cancelled.status == "cancelled" and cancelled.epoch == 2
    assert of(events, 101, SummaryEvent)[0].status == "cancelled"
    assert max(e.epoch for e in of(events, 101, EpochEvent)) == 2
    assert max(e.epoch for e in of(events, 100, EpochEvent)) == 6
    assert of(events, 100, StatusEvent)[-1].status == "completed"


def test_cancelling_every_run_ends_the_group() -> None:
    events = list(train_group(group(spec(), spec()), lambda run_id: True))
    statuses = [e.status for e in events if isinstance(e, StatusEvent)]
    assert statuses == ["running", "running", "cancelled", "cancelled"]
    assert not [e for e in events if isinstance(e, EpochEvent)]


def test_a_diverging_run_ends_diverged_with_a_reason_and_the_other_completes() -> None:
    wild = spec(data={"kind": "sine"}, optimizer={"kind": "sgd", "lr": 10.0})
    calm = spec(data={"kind": "sine"}, optimizer={"kind": "sgd", "lr": 0.01})
    events = list(train_group(group(wild, calm)))
    status = of(events, 100, StatusEvent)[-1]
    assert status.status == "diverged"
    assert "learning rate below 10" in (status.message or "")
    summary = of(events, 100, SummaryEvent)[0]
    assert summary.status == "diverged"
    assert torch.isfinite(torch.tensor(summary.test_loss))  # the weights before the blow-up
    assert of(events, 101, StatusEvent)[-1].status == "completed"


def test_early_stopping_stops_and_reports_the_best_epoch() -> None:
    # A wide net, long training and a tiny patience: validation loss soon stops improving.
    s = spec(
        model={"hidden": [64, 64]},
        optimizer={"lr": 0.05},
        train={"epochs": 200},
        regularization={"early_stopping": True, "patience": 2},
    )
    events = list(train_group(group(s)))
    status = of(events, 100, StatusEvent)[-1]
    summary = of(events, 100, SummaryEvent)[0]
    epochs = of(events, 100, EpochEvent)
    assert status.status == "stopped_early"
    assert summary.epochs_run == len(epochs) < 200
    best = min(epochs, key=lambda e: e.val_loss)
    assert summary.best_epoch == best.epoch == summary.epochs_run - 2
    assert summary.best_val_loss == best.val_loss
    assert summary.extra["weights"] == "best"


def test_snapshots_hold_fixed_bins_and_a_decision_boundary() -> None:
    events = list(train_group(group(spec())))
    hists = [e for e in events if isinstance(e, SnapshotEvent) and e.kind == "histogram"]
    bounds = [e for e in events if isinstance(e, SnapshotEvent) and e.kind == "boundary"]
    assert [e.epoch for e in hists] == [e.epoch for e in bounds] == [3, 6]
    layers = hists[0].data["layers"]
    assert hists[0].data["edges"] == HIST_EDGES
    assert len(layers) == 3
    counts = sum(layers[0]["counts"]) + layers[0]["below"] + layers[0]["above"]
    assert counts == 2 * 16  # every first-layer weight counted once
    grid = bounds[0].data["p"]
    assert len(grid) == GRID and len(grid[0]) == GRID
    assert all(0.0 <= p <= 1.0 for row in grid for p in row)
    assert "train" in bounds[0].data and "train" not in bounds[1].data  # points sent once


def test_regression_snapshots_hold_the_fitted_curve() -> None:
    events = list(train_group(group(spec(data={"kind": "sine"}))))
    curves = [e for e in events if isinstance(e, SnapshotEvent) and e.kind == "curve"]
    assert len(curves) == 2
    first = curves[0].data
    assert len(first["x"]) == len(first["y"]) > 50
    assert len(first["train"]["x1"]) == len(first["train"]["y"]) > 0
    epoch = of(events, 100, EpochEvent)[0]
    assert epoch.train_acc is None and epoch.val_acc is None


def test_epoch_probes_measure_the_weights() -> None:
    s = spec(
        optimizer={"kind": "sgd", "lr": 0.1},
        regularization={"l1": 0.05, "l1_mode": "proximal"},
    )
    events = list(train_group(group(s)))
    epochs = of(events, 100, EpochEvent)
    assert all(len(e.grad_norms) == 3 and min(e.grad_norms) > 0 for e in epochs)
    assert all(e.step_size > 0 and e.weight_l1 > e.weight_l2 > 0 for e in epochs)
    assert epochs[-1].sparsity > 0  # the proximal step made exact zeros
    assert epochs[0].lr == 0.1
    summary = of(events, 100, SummaryEvent)[0]
    assert summary.sparsity == epochs[-1].sparsity
    assert summary.gap == pytest.approx(epochs[-1].val_loss - epochs[-1].train_loss)
    assert summary.test_acc is not None and 0.5 < summary.test_acc <= 1.0
