"""Lockstep engine vs bare PyTorch loops: K=8 members at once vs 8 loops, and K=1 vs one loop.

Same work on both sides: the same data tensors, architecture, Adam, batch size and batch order
(randperm(...).split), and after every epoch an evaluation-mode loss over the training and
validation sets (what a loop needs to show overfitting). The engine also pays for its probes
(weight norms, sparsity, gradient norms, step size) and its events. One thread, as workers run.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import get_args

import torch
from reglab.spec import DataKind, DataSpec, RunSpec
from reglab.training.datasets import Dataset, make_dataset
from reglab.training.loop import train_group
from reglab.training.plan import Group, Member
from torch import Tensor, nn

REPEATS = 3  # best of, to keep a busy machine's noise out of the ratio


def _spec(kind: str, hidden: list[int], n_train: int, epochs: int, lr: float) -> RunSpec:
    return RunSpec.model_validate(
        {
            "data": {"kind": kind, "n_train": n_train},
            "model": {"hidden": hidden, "activation": "relu"},
            "optimizer": {"kind": "adam", "lr": lr},
            "train": {"epochs": epochs, "batch_size": 32, "snapshot_every": epochs},
        }
    )


def bare_loop(data: Dataset, spec: RunSpec) -> None:
    """What one would write by hand: nn.Sequential, torch.optim.Adam, eval each epoch."""
    torch.manual_seed(spec.model.init_seed)
    widths = [data.n_inputs, *spec.model.hidden]
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], data.n_outputs))
    opt = torch.optim.Adam(model.parameters(), lr=spec.optimizer.lr)
    loss_fn: Callable[[Tensor, Tensor], Tensor] = (
        nn.BCEWithLogitsLoss() if data.task == "binary" else nn.CrossEntropyLoss()
    )
    order = torch.Generator().manual_seed(spec.train.seed)
    n = data.x_train.shape[0]
    for _ in range(spec.train.epochs):
        model.train()
        for idx in torch.randperm(n, generator=order).split(spec.train.batch_size):
            opt.zero_grad()
            loss_fn(model(data.x_train[idx]), data.y_train[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            loss_fn(model(data.x_train), data.y_train).item()
            loss_fn(model(data.x_val), data.y_val).item()


def _engine(specs: list[RunSpec]) -> None:
    group = Group(tuple(Member(i, f"m{i}", s) for i, s in enumerate(specs)))
    for _ in train_group(group):
        pass


def _bare(specs: list[RunSpec]) -> None:
    data = make_dataset(specs[0].data)  # once, as the engine does for its group
    for spec in specs:
        bare_loop(data, spec)


def _with_lr(spec: RunSpec, lr: float) -> RunSpec:
    return spec.model_copy(update={"optimizer": spec.optimizer.model_copy(update={"lr": lr})})


def _compare(label: str, spec: RunSpec, k: int, target: float) -> float:
    """Print and return bare time / engine time, best of REPEATS, measured alternately."""
    # K variants that differ the way a lesson's do (here the learning rate): no shared work.
    specs = [_with_lr(spec, spec.optimizer.lr * (1 + 0.1 * i)) for i in range(k)]
    bare, engine = [], []
    for _ in range(REPEATS):  # alternating, so that a busy spell hits both sides
        for fn, times in ((_bare, bare), (_engine, engine)):
            started = time.perf_counter()
            fn(specs)
            times.append(time.perf_counter() - started)
    ratio = min(bare) / min(engine)
    if target > 0:
        verdict = "ok" if ratio >= target else "BELOW TARGET"
        print(
            f"{label:<38} bare {min(bare):6.2f} s  engine {min(engine):6.2f} s  "
            f"ratio {ratio:5.2f}x  (target >= {target}x: {verdict})",
            flush=True,
        )
    return ratio


def _data_sets(target_s: float = 0.2) -> None:
    """Each data kind made at n_train = 2,000 (a submission builds one per group): a speed
    figure, so measured here rather than asserted in a test on a noisy machine."""
    make_dataset(DataSpec(kind="moons"))  # pays sklearn's import once
    for kind in get_args(DataKind):
        took = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            make_dataset(DataSpec(kind=kind, n_train=2000))
            took.append(time.perf_counter() - started)
        best = min(took)
        verdict = "ok" if best < target_s else "ABOVE TARGET"
        print(f"data set {kind}, n_train=2000: {best * 1000:5.0f} ms (target < 200 ms: {verdict})")


def main() -> None:
    torch.set_num_threads(1)
    _data_sets()
    moons = _spec("moons", [64, 64], n_train=1000, epochs=10, lr=0.01)
    digits = _spec("digits", [256, 256], n_train=1200, epochs=6, lr=0.001)
    # Warm-up, unreported: the first torch.optim optimizer imports torch._dynamo (~2 s).
    _compare("warm-up", _spec("moons", [8], n_train=100, epochs=1, lr=0.01), 1, 0.0)
    print(f"torch {torch.__version__}, 1 thread, best of {REPEATS}; ratio > 1: engine faster")
    _compare("moons 2-64-64-1: K=8 vs 8 loops", moons, 8, 4.0)
    _compare("digits 64-256-256-10: K=8 vs 8 loops", digits, 8, 1.3)
    _compare("moons 2-64-64-1: K=1 vs 1 loop", moons, 1, 0.95)
    _compare("digits 64-256-256-10: K=1 vs 1 loop", digits, 1, 0.95)


if __name__ == "__main__":
    main()
