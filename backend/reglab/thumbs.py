"""The gallery's thumbnails: each lesson's own curves from a real run at seed setting 0, kept small.

`make thumbs` trains every lesson as shipped and writes frontend/lesson-thumbs.json (a few KB,
committed): the page draws it, with nothing trained or stored when it opens. Each lesson's entry
carries a fingerprint of its spec, so tests/unit/test_thumbs.py fails when a lesson changes and
its thumbnail was not made again; tests/science/test_lesson_thumbs.py checks the committed numbers
against the runs the science suite trains at seed setting 0.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reglab.events import EpochEvent, SummaryEvent
from reglab.presets import LESSONS

# Points per curve: a 120-pixel-wide thumbnail shows no more.
POINTS = 30
# Per lesson, the per-epoch number its thumbnail draws for each variant (the one its claims are
# about); a lesson that sweeps a field draws its final validation loss against the field instead.
METRIC = {
    "vanishing-gradients": "train_loss",
    "optimizers": "train_loss",
    "overfitting": "val_loss",
    "l1-vs-l2": "sparsity",
    "adamw-vs-l2": "weight_l2",
}
PATH = Path(__file__).resolve().parents[2] / "frontend" / "lesson-thumbs.json"

Runs = Mapping[str, Sequence[tuple[Sequence[EpochEvent], SummaryEvent]]]


def fingerprint(name: str) -> str:
    """A short hash of what the lesson trains (base, variants, grid, repeats; not its words or
    claims): a thumbnail made from other training is stale. Fields at their defaults are left
    out, so a new spec field whose default trains as before leaves it alone."""
    trained = LESSONS[name].spec.model_dump(
        mode="json", include={"base", "variants", "grid", "repeats"}, exclude_defaults=True
    )
    text = json.dumps(trained, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _decimate(values: Sequence[float], points: int = POINTS) -> list[float]:
    """`points` values spread evenly over the curve, first and last kept, to 3 digits."""
    n = len(values)
    picks = range(n) if n <= points else [round(i * (n - 1) / (points - 1)) for i in range(points)]
    return [float(f"{values[i]:.3g}") for i in picks]


def thumbnail(name: str, runs: Runs) -> dict[str, Any]:
    """Lesson `name`'s thumbnail from its runs (per variant: (epoch events, summary) of each
    replicate, in order): curves of replicate 0, or a sweep's replicate means."""
    spec = LESSONS[name].spec
    out: dict[str, Any] = {"fingerprint": fingerprint(name)}
    if spec.grid:
        field = spec.grid[0].field
        out |= {
            "kind": "sweep",
            "field": field,
            "values": list(spec.grid[0].values),
            "val_loss": [
                float(f"{statistics.fmean(s.final_val_loss for _, s in reps):.3g}")
                for reps in runs.values()
            ],
        }
        return out
    metric = METRIC.get(name, "val_loss")
    out |= {
        "kind": "curves",
        "metric": metric,
        "epochs": max(len(reps[0][0]) for reps in runs.values()),
        "curves": {
            variant: _decimate([float(getattr(e, metric)) for e in reps[0][0]])
            for variant, reps in runs.items()
        },
    }
    return out


def _train(name: str) -> Runs:
    """The lesson as shipped (seed setting 0), trained as the service would."""
    from reglab.training.loop import train_group  # torch only where thumbnails are made
    from reglab.training.plan import Member, plan

    planned = LESSONS[name].spec.members()
    members = [Member(i, p.variant, p.spec) for i, p in enumerate(planned)]
    epochs: dict[int, list[EpochEvent]] = {m.run_id: [] for m in members}
    summaries: dict[int, SummaryEvent] = {}
    for group in plan(members):
        for event in train_group(group):
            if isinstance(event, EpochEvent):
                epochs[event.run_id].append(event)
            elif isinstance(event, SummaryEvent):
                summaries[event.run_id] = event
    runs: dict[str, list[tuple[Sequence[EpochEvent], SummaryEvent]]] = {}
    for m, p in zip(members, planned, strict=True):
        runs.setdefault(p.variant, []).append((epochs[m.run_id], summaries[m.run_id]))
    return runs


def main(path: Path = PATH) -> None:
    thumbs = {name: thumbnail(name, _train(name)) for name in LESSONS}
    path.write_text(json.dumps(thumbs, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
