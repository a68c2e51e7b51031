"""The lockstep engine: the K runs of a group trained as one batched computation, told as events.

Each member draws its minibatch order and dropout masks from its own train seed (members that
share a seed share one minibatch, so a comparison's variants see the same batches; replicates,
with seeds of their own, get theirs by a gather per step); each member has its own
hyperparameters as (K,) tensors. A member that completes, stops early, diverges or is cancelled
freezes (its weights never move again) while the others go on. Events, per run, in this order:

    StatusEvent(running)
    EpochEvent per epoch (+ SnapshotEvents every train.snapshot_every epochs and at the last)
    StatusEvent(completed | stopped_early | diverged | cancelled), then one SummaryEvent

train_loss / val_loss are the data loss in evaluation mode (no dropout, no penalty term): the
number that tells overfitting, comparable between a regularized run and an unregularized one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Literal

import torch
from torch import Tensor

from reglab.diagnosis import Trace
from reglab.events import EpochEvent, Event, RunStatus, SnapshotEvent, StatusEvent, SummaryEvent
from reglab.spec import RunSpec
from reglab.training import probes
from reglab.training.datasets import Dataset, make_dataset
from reglab.training.ensemble import Ensembles
from reglab.training.models import (
    Architecture,
    DropoutMasks,
    Net,
    evaluate,
    forward,
    init_net,
    losses,
)
from reglab.training.optim import make_optimizer
from reglab.training.plan import Group
from reglab.training.regularize import EarlyStopping, add_penalty_grads, proximal_l1

log = logging.getLogger(__name__)

StopCheck = Callable[[int], bool]
_CANCELLED = "Cancelled on request."


def train_group(group: Group, should_stop: StopCheck | None = None) -> Iterator[Event]:
    """Train a group's runs in lockstep, yielding events; should_stop(run_id) cancels a run."""
    yield from Lockstep(group).events(should_stop)


def train_bursts(group: Group, should_stop: StopCheck | None = None) -> Iterator[list[Event]]:
    """`train_group`'s events in the bursts training says them in (see `Lockstep.bursts`)."""
    yield from Lockstep(group).bursts(should_stop)


def _col(specs: list[RunSpec], get: Callable[[RunSpec], float]) -> Tensor:
    return torch.tensor([float(get(s)) for s in specs], dtype=torch.float32)  # (K,)


@dataclass(frozen=True, slots=True)
class Hyper:
    """Every member's hyperparameters, one (K,) tensor each."""

    lr: Tensor
    l1_sub: Tensor  # λ1 of members using the subgradient, else 0
    l1_prox: Tensor  # λ1 of members using the proximal step, else 0
    l2: Tensor
    dropout: Tensor
    input_dropout: Tensor

    @classmethod
    def from_specs(cls, specs: list[RunSpec]) -> Hyper:
        l1 = _col(specs, lambda s: s.regularization.l1)
        prox = _col(specs, lambda s: s.regularization.l1_mode == "proximal")
        return cls(
            lr=_col(specs, lambda s: s.optimizer.lr),
            l1_sub=l1 * (1 - prox),
            l1_prox=l1 * prox,
            l2=_col(specs, lambda s: s.regularization.l2),
            dropout=_col(specs, lambda s: s.regularization.dropout),
            input_dropout=_col(specs, lambda s: s.regularization.input_dropout),
        )


class BatchOrder:
    """Each member's minibatch order, a fresh permutation per epoch from its train seed.

    Members that share a seed share one permutation stream; with a single seed in the group the
    batches are plain index vectors (B,) that every member reads, otherwise (K, B) index rows,
    member k's from its own seed's stream: exactly the batches it would get alone.
    """

    def __init__(self, seeds: list[int], n: int, batch_size: int) -> None:
        unique = list(dict.fromkeys(seeds))
        self.generators = [torch.Generator().manual_seed(s) for s in unique]
        self.pick = None if len(unique) == 1 else torch.tensor([unique.index(s) for s in seeds])
        self.n, self.batch_size = n, batch_size

    def epoch(self) -> tuple[Tensor, ...]:
        """This epoch's batches: index tensors (B,) shared by all, or (K, B) one row a member."""
        perms = [torch.randperm(self.n, generator=g) for g in self.generators]
        if self.pick is None:
            return torch.split(perms[0], self.batch_size)
        rows = torch.stack(perms)[self.pick]  # (K, n)
        return torch.split(rows, self.batch_size, dim=1)


@dataclass(frozen=True, slots=True)
class EpochNumbers:
    """What one epoch measured, for every member: (K,) tensors (accuracies None in regression)."""

    train_loss: Tensor
    val_loss: Tensor
    train_acc: Tensor | None
    val_acc: Tensor | None
    weight_l1: Tensor
    weight_l2: Tensor
    sparsity: Tensor
    step_size: Tensor
    grad_norms: Tensor  # (K, layers)

    @classmethod
    def measure(cls, net: Net, data: Dataset, grad_norms: Tensor, step: Tensor) -> EpochNumbers:
        """Evaluation-mode losses and accuracies, weight statistics, and the epoch's probes."""
        train_loss, train_acc = evaluate(net, data.x_train, data.y_train)
        val_loss, val_acc = evaluate(net, data.x_val, data.y_val)
        l1, l2, sparsity = probes.weight_stats(net.weights)
        return cls(train_loss, val_loss, train_acc, val_acc, l1, l2, sparsity, step, grad_norms)

    def finite(self, *, has_val: bool) -> Tensor:
        """(K,) bool: the member's losses are numbers (a tiny spec may have no validation set)."""
        ok = torch.isfinite(self.train_loss)
        return ok & torch.isfinite(self.val_loss) if has_val else ok

    def rows(self) -> list[dict[str, Any]]:
        """Per member, these numbers as the EpochEvent fields of the same names (plain floats)."""
        columns = {f.name: getattr(self, f.name) for f in fields(self)}
        lists = {name: None if t is None else t.tolist() for name, t in columns.items()}
        return [
            {name: None if col is None else col[k] for name, col in lists.items()}
            for k in range(self.train_loss.shape[0])
        ]


# A member whose run ends now: its index, final status and the sentence saying why.
Ending = tuple[int, RunStatus, str]


class Lockstep:
    """One group's training state; `events()` runs it. Tests read `net` after the run."""

    def __init__(self, group: Group) -> None:
        self.members = group.members
        self.specs = [m.spec for m in self.members]
        first = self.specs[0]
        self.data = make_dataset(first.data)
        arch = Architecture.from_spec(
            first.model,
            n_inputs=self.data.n_inputs,
            n_outputs=self.data.n_outputs,
            task=self.data.task,
        )
        self.net = init_net(arch, [s.model.init_seed for s in self.specs])
        self.hyper = Hyper.from_specs(self.specs)
        specs = self.specs
        self.optimizer = make_optimizer(
            first.optimizer.kind,
            self.net.parameters(),
            lr=self.hyper.lr,
            momentum=_col(specs, lambda s: s.optimizer.momentum),
            beta1=_col(specs, lambda s: s.optimizer.beta1),
            beta2=_col(specs, lambda s: s.optimizer.beta2),
            alpha=_col(specs, lambda s: s.optimizer.alpha),
            eps=_col(specs, lambda s: s.optimizer.eps),
            weight_decay=_col(specs, lambda s: s.regularization.weight_decay),
            decay_mask=[True, False] * len(self.net.weights),
        )
        seeds = [s.train.seed for s in specs]
        self.dropout = DropoutMasks(
            self.hyper.input_dropout, self.hyper.dropout, arch.widths, seeds
        )
        self.order = BatchOrder(seeds, self.data.x_train.shape[0], first.train.batch_size)
        reg = [s.regularization for s in specs]
        self.stopper = EarlyStopping(
            enabled=torch.tensor([r.early_stopping for r in reg]),
            patience=torch.tensor([r.patience for r in reg]),
            min_delta=_col(specs, lambda s: s.regularization.min_delta),
        )
        self.restore = [r.early_stopping and r.restore_best for r in reg]
        # The best validation epoch's weights, kept for every member: early stopping restores
        # them, and a diverged member reports them instead of its NaNs.
        # (K, P): all of a member's parameters are row k of the optimizer's flat buffer.
        self.best = self.optimizer.flat.clone()
        k = len(self.members)
        self.active = torch.ones(k)
        self.alive = [True] * k
        self.epochs_done = [0] * k
        self.last: list[EpochEvent | None] = [None] * k
        self.sent_points = [False] * k
        # What each run's diagnosis reads (diagnosis.py), kept in its summary.
        baseline = probes.know_nothing_loss(self.data.y_train, self.data.task)
        self.traces = [Trace(baseline) for _ in range(k)]
        # Every weight's third by its initial size, and each third's initial mean |w|: the
        # histogram snapshots follow each third's mean |w| (L1 against L2 by weight size).
        self.thirds = probes.size_thirds(self.net.weights)
        self.thirds_start = probes.mean_by_third(self.net.weights, self.thirds)
        # Dropout members on the plane: their thinned nets against the scaled net (ensemble.py).
        self.ensembles = Ensembles(self.specs, self.net, self.data)

    # ---- the run -------------------------------------------------------------------------

    def events(self, should_stop: StopCheck | None = None) -> Iterator[Event]:
        """Train until every member has ended, yielding each run's events in order."""
        for burst in self.bursts(should_stop):
            yield from burst

    def bursts(self, should_stop: StopCheck | None = None) -> Iterator[list[Event]]:
        """`events()` as the lists said between two stretches of training: the members'
        running statuses, then per epoch its metrics and then its snapshots and endings, and a
        cancel's endings. A worker hands each list on at once (jobs/local.py): one event at a
        time, its sender thread woke for each member and took the interpreter from training
        (a lesson's half of 15 members trained about 15 % slower for it)."""
        self.started = time.perf_counter()
        yield [StatusEvent(m.run_id, RunStatus.RUNNING) for m in self.members]
        d = self.data
        net, opt, hyper = self.net, self.optimizer, self.hyper
        weights = net.weights
        task = net.arch.task
        penalize = bool((hyper.l1_sub > 0).any() or (hyper.l2 > 0).any())
        prox = bool((hyper.l1_prox > 0).any())
        threshold = hyper.lr * hyper.l1_prox
        # The probes look at a few sampled updates per epoch (StepMeter.sampled), not at all.
        grads = probes.GradMeter(len(weights), net.size)
        # Every weight of a member side by side, (K, n): the optimizer keeps them first in its
        # flat buffer, so the step probe is a few ops on one tensor.
        all_weights = [opt.decayed()]
        ones = torch.ones(len(self.members))
        steps = probes.StepMeter(net.size)
        max_epochs = max(s.train.epochs for s in self.specs)

        for epoch in range(1, max_epochs + 1):
            batches = self.order.epoch()
            measured = probes.StepMeter.sampled(len(batches))
            for i, idx in enumerate(batches):
                if should_stop is not None:
                    cancelled = self._cancelled(should_stop)
                    if cancelled:
                        yield self._end([(k, RunStatus.CANCELLED, _CANCELLED) for k in cancelled])
                    if not any(self.alive):
                        return
                xb, yb = d.x_train[idx], d.y_train[idx]  # (B, …), or (K, B, …) per member
                masks = self.dropout.sample(idx.shape[-1]) if self.dropout.active else ()
                opt.zero_grad()
                # Each member's loss (K,) seeded with ones: the gradient of their sum, without
                # a sum node in the graph.
                loss = losses(forward(net, xb, masks), yb, task)
                torch.autograd.backward(loss, ones)
                sample = i in measured
                if sample:
                    grads.add(weights)
                if penalize:
                    add_penalty_grads(weights, l1=hyper.l1_sub, l2=hyper.l2)
                if sample:
                    steps.before(all_weights)
                # None while every member trains: the step then skips its freezing work.
                opt.step(None if all(self.alive) else self.active)
                if prox:
                    proximal_l1(weights, threshold * self.active)
                if sample:
                    steps.after(all_weights)
            yield from self._close_epoch(epoch, grads.take(), steps.take())
            if not any(self.alive):
                return

    def _cancelled(self, should_stop: StopCheck) -> list[int]:
        return [k for k, m in enumerate(self.members) if self.alive[k] and should_stop(m.run_id)]

    def _close_epoch(self, epoch: int, grad_norms: Tensor, step: Tensor) -> Iterator[list[Event]]:
        """Measure, keep the best weights, report, snapshot, and end the runs that are over:
        the metrics as one burst, sent while the snapshots are drawn, then the rest."""
        numbers = EpochNumbers.measure(self.net, self.data, grad_norms, step)
        finite = numbers.finite(has_val=self.data.x_val.shape[0] > 0)
        stop = self._track_best(numbers.val_loss, finite, epoch)
        report, ending = self._report(epoch, numbers, finite, stop)
        if report:
            yield list(report)
        ends = {k for k, status, _ in ending if status != RunStatus.DIVERGED}
        due = [
            k
            for k in range(len(self.members))
            if self.alive[k]
            and bool(finite[k])
            and (epoch % self.specs[k].train.snapshot_every == 0 or k in ends)
        ]
        rest: list[Event] = self._snapshots(epoch, due) if due else []
        if ending:
            rest += self._end(ending)
        if rest:
            yield rest

    def _track_best(self, val_loss: Tensor, finite: Tensor, epoch: int) -> Tensor:
        """Early stopping's bookkeeping and the best weights; returns who should stop (K,)."""
        alive = torch.tensor(self.alive) & finite
        # Frozen and diverged members are given +inf: never an improvement.
        inf = torch.full_like(val_loss, math.inf)
        improved, stop = self.stopper.update(torch.where(alive, val_loss, inf), epoch)
        if improved.any():
            self.best[improved] = self.optimizer.flat[improved]
        return stop

    def _report(
        self, epoch: int, numbers: EpochNumbers, finite: Tensor, stop: Tensor
    ) -> tuple[list[EpochEvent], list[Ending]]:
        """Each live member's epoch event, and the members whose run ends after it."""
        seconds = time.perf_counter() - self.started
        rows = numbers.rows()
        events: list[EpochEvent] = []
        ending: list[Ending] = []
        for k, m in enumerate(self.members):
            if not self.alive[k]:
                continue
            row, spec = rows[k], self.specs[k]
            if not bool(finite[k]):
                bad = (
                    "NaN"
                    if math.isnan(row["train_loss"]) or math.isnan(row["val_loss"])
                    else "infinite"
                )
                ending.append((k, RunStatus.DIVERGED, _diverged_message(epoch, bad, spec)))
                continue
            event = EpochEvent(
                run_id=m.run_id, epoch=epoch, lr=spec.optimizer.lr, seconds=seconds, **row
            )
            self.last[k] = event
            self.traces[k].add(event.train_loss, event.step_size, event.grad_norms)
            self.epochs_done[k] = epoch
            events.append(event)
            if bool(stop[k]):
                best = int(self.stopper.best_epoch[k])
                ending.append((k, RunStatus.STOPPED_EARLY, _stopped_message(epoch, best, spec)))
            elif epoch >= spec.train.epochs:
                ending.append((k, RunStatus.COMPLETED, f"Trained all {epoch} epochs."))
        return events, ending

    def _snapshots(self, epoch: int, due: list[int]) -> list[Event]:
        d, net = self.data, self.net
        hists = probes.histograms(net.weights)
        by_third = probes.mean_by_third(net.weights, self.thirds)
        pictures: list[dict[str, object]] | None = None
        kind: Literal["boundary", "curve"] = "boundary"
        if d.n_inputs == 2 and d.task != "regression":
            pictures, kind = list(probes.boundaries(net, d.x_range)), "boundary"
        elif d.n_inputs == 1 and d.task == "regression":
            pictures, kind = list(probes.curves(net, d.x_range)), "curve"
        out: list[Event] = []
        for k in due:
            run_id = self.members[k].run_id
            hist = hists[k] | {"by_third": by_third[k], "by_third_start": self.thirds_start[k]}
            out.append(SnapshotEvent(run_id, epoch, "histogram", hist))
            thinned = self.ensembles.snapshot(net, k)
            if thinned is not None:
                out.append(SnapshotEvent(run_id, epoch, "ensemble", thinned))
            if pictures is None:
                continue
            data = pictures[k]
            if not self.sent_points[k]:
                data["train"] = probes.points(d.x_train, d.y_train)
                data["val"] = probes.points(d.x_val, d.y_val)
                self.sent_points[k] = True
            out.append(SnapshotEvent(run_id, epoch, kind, data))
        return out

    def _end(self, ending: list[Ending]) -> list[Event]:
        """Freeze these members, settle their reported weights, send each status and summary."""
        restored: dict[int, bool] = {}
        for k, status, _ in ending:
            self.alive[k] = False
            self.active[k] = 0.0
            best_epoch = int(self.stopper.best_epoch[k])
            # A diverged member's weights are NaN: it reports its best (or initial) ones.
            restored[k] = status == "diverged" or (self.restore[k] and best_epoch > 0)
            if restored[k]:
                with torch.no_grad():
                    self.optimizer.flat[k].copy_(self.best[k])
        # One evaluation of all K serves every member that ends now.
        d, net = self.data, self.net
        test = evaluate(net, d.x_test, d.y_test) if d.x_test.shape[0] > 0 else None
        public = evaluate(net, d.x_public, d.y_public) if d.x_public.shape[0] > 0 else None
        initial = None
        if any(self.last[k] is None for k, _, _ in ending):
            initial = (evaluate(net, d.x_train, d.y_train)[0], evaluate(net, d.x_val, d.y_val)[0])
        out: list[Event] = []
        for k, status, message in ending:
            run_id = self.members[k].run_id
            # A diverged run says in which epoch it blew up; the others, their last full epoch.
            at = self.epochs_done[k] + 1 if status == "diverged" else self.epochs_done[k]
            out.append(StatusEvent(run_id, status, message, epoch=at))
            summary = self._summary(k, status, restored[k], test, initial)
            if public is not None:  # a challenge's board scores the public test split
                summary.extra.update(_public_scores(public, k))
            out.append(summary)
        return out

    def _summary(
        self,
        k: int,
        status: RunStatus,
        restored: bool,
        test: tuple[Tensor, Tensor | None] | None,
        initial: tuple[Tensor, Tensor] | None,
    ) -> SummaryEvent:
        test_loss, test_acc = math.nan, None  # no test split (test_fraction = 0)
        if test is not None:
            test_loss = float(test[0][k])
            test_acc = float(test[1][k]) if test[1] is not None else None
        last = self.last[k]
        if last is not None:
            final_train, final_val = last.train_loss, last.val_loss
            best_val = float(self.stopper.best_loss[k])
        else:  # ended before its first epoch: report what the (initial) weights do
            assert initial is not None
            final_train, final_val = float(initial[0][k]), float(initial[1][k])
            best_val = final_val
        _, _, sparsity = probes.weight_stats([w[k : k + 1] for w in self.net.weights])
        return SummaryEvent(
            run_id=self.members[k].run_id,
            status=status,
            epochs_run=self.epochs_done[k],
            best_epoch=max(int(self.stopper.best_epoch[k]), 0),
            best_val_loss=best_val,
            final_train_loss=final_train,
            final_val_loss=final_val,
            test_loss=test_loss,
            test_acc=test_acc,
            gap=final_val - final_train,
            sparsity=float(sparsity[0]),
            seconds=time.perf_counter() - self.started,
            extra={
                "name": self.members[k].name,
                "weights": "best" if restored else "last",
                "trace": self.traces[k].numbers(int(self.stopper.best_epoch[k])),
                **self.ensembles.summary(k),
            },
        )


def _public_scores(public: tuple[Tensor, Tensor | None], k: int) -> dict[str, float | None]:
    """Member k's loss and accuracy on a challenge's public test split; a non-finite number
    (JSON has none) is None, a score the board does not count."""
    loss = float(public[0][k])
    acc = float(public[1][k]) if public[1] is not None else None
    return {
        "public_loss": loss if math.isfinite(loss) else None,
        "public_acc": acc if acc is not None and math.isfinite(acc) else None,
    }


def _diverged_message(epoch: int, bad: str, spec: RunSpec) -> str:
    kept = "those of its best epoch" if epoch > 1 else "its initial ones"
    return (
        f"Diverged in epoch {epoch}: the loss became {bad}. The steps were too large for this "
        f"setup; try a learning rate below {spec.optimizer.lr:g}. Reported weights are {kept}."
    )


def _stopped_message(epoch: int, best: int, spec: RunSpec) -> str:
    patience = spec.regularization.patience
    kept = "kept" if spec.regularization.restore_best else "not kept"
    return (
        f"Stopped early after epoch {epoch}: validation loss had not improved for {patience} "
        f"epochs since its best at epoch {best} (whose weights are {kept})."
    )
