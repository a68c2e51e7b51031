"""The `reglab` command line: one flat file of commands (run; serve and submit join it)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from pydantic import ValidationError

from reglab.errors import located
from reglab.events import EpochEvent, RunStatus, StatusEvent, SummaryEvent
from reglab.presets import LESSONS, LessonNotFound, get_lesson
from reglab.spec import ExperimentSpec, RunSpec
from reglab.training.loop import train_group
from reglab.training.plan import Member, plan

app = typer.Typer(
    help="reglab: compare regularizers and optimizers side by side.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _main() -> None:
    """reglab: compare regularizers and optimizers side by side."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=2)


def _load(lesson: str | None, spec_file: Path | None) -> ExperimentSpec:
    if (lesson is None) == (spec_file is None):
        raise _fail(f"give --lesson NAME or --spec FILE.json (lessons: {', '.join(LESSONS)}).")
    if lesson is not None:
        try:
            return get_lesson(lesson).spec
        except LessonNotFound as exc:
            raise _fail(str(exc)) from None
    assert spec_file is not None
    try:
        raw = json.loads(spec_file.read_text())
        # A bare RunSpec ({"data": ..., "model": ...}) is an experiment of one run.
        if isinstance(raw, dict) and raw and set(raw) <= set(RunSpec.model_fields):
            raw = {"name": spec_file.stem, "base": raw}
        return ExperimentSpec.model_validate(raw)
    except OSError as exc:
        raise _fail(f"cannot read {spec_file}: {exc.strerror}.") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"{spec_file} is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
    except ValidationError as exc:
        loc, msg = located(exc.errors()[0])
        where = ".".join(str(p) for p in loc) or "the file"
        raise _fail(f"{spec_file}: {where}: {msg}") from None


def _members(experiment: ExperimentSpec, epochs: int | None) -> list[Member]:
    members = []
    for run_id, planned in enumerate(experiment.members(), start=1):
        spec = planned.spec
        if epochs is not None:
            spec = spec.model_copy(
                update={"train": spec.train.model_copy(update={"epochs": epochs})}
            )
        members.append(Member(run_id, planned.name, spec))
    return members


def _clean(value: Any) -> Any:
    """NaN / ±Inf as None, so that --json prints strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _table(summaries: list[SummaryEvent], names: dict[int, str]) -> str:
    head = (
        f"{'run':<18} {'status':<13} {'best ep':>7} {'best val':>9} {'train':>8} {'val':>8} "
        f"{'gap':>8} {'sparsity':>8} {'test acc':>8} {'time s':>7}"
    )
    lines = [head, "-" * len(head)]
    for s in summaries:
        acc = f"{s.test_acc:8.3f}" if s.test_acc is not None else f"{'-':>8}"
        lines.append(
            f"{names[s.run_id]:<18.18} {s.status:<13} {s.best_epoch:>7} {s.best_val_loss:>9.4f} "
            f"{s.final_train_loss:>8.4f} {s.final_val_loss:>8.4f} {s.gap:>8.4f} "
            f"{s.sparsity:>8.3f} {acc} {s.seconds:>7.1f}"
        )
    return "\n".join(lines)


@app.command()
def run(
    lesson: Annotated[str | None, typer.Option(help="A lesson by name, e.g. overfitting.")] = None,
    spec: Annotated[
        Path | None, typer.Option(help="An ExperimentSpec as a JSON file.", dir_okay=False)
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(min=1, max=2000, help="Train every run this many epochs.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summaries as JSON.")] = False,
) -> None:
    """Train an experiment here, headless, and print a table of its runs."""
    experiment = _load(lesson, spec)
    # One thread, as the workers run: these nets are too small to gain from more, and on a
    # busy machine extra threads spin against each other.
    torch.set_num_threads(1)
    members = _members(experiment, epochs)
    names = {m.run_id: m.name for m in members}
    messages: dict[int, str | None] = {}
    summaries: list[SummaryEvent] = []
    total = sum(m.spec.train.epochs for m in members)
    with typer.progressbar(
        length=total, label=experiment.name, file=sys.stderr, hidden=as_json
    ) as bar:
        for group in plan(members):
            seen: dict[int, int] = {}
            for event in train_group(group):
                if isinstance(event, EpochEvent):
                    bar.update(1)
                    seen[event.run_id] = event.epoch
                elif isinstance(event, StatusEvent) and event.status != RunStatus.RUNNING:
                    messages[event.run_id] = event.message
                elif isinstance(event, SummaryEvent):
                    # Epochs a run did not train (it stopped early) still count as done.
                    spec_epochs = next(
                        m.spec.train.epochs for m in group.members if m.run_id == event.run_id
                    )
                    bar.update(spec_epochs - seen.get(event.run_id, 0))
                    summaries.append(event)
    summaries.sort(key=lambda s: s.run_id)
    if as_json:
        runs = [
            {"name": names[s.run_id], "message": messages.get(s.run_id), **_clean(s.to_dict())}
            for s in summaries
        ]
        typer.echo(
            json.dumps({"experiment": experiment.name, "lesson": experiment.lesson, "runs": runs})
        )
        return
    typer.echo(_table(summaries, names))
    for s in summaries:
        if s.status != RunStatus.COMPLETED and messages.get(s.run_id):
            typer.echo(f"{names[s.run_id]}: {messages[s.run_id]}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [REGLAB_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [REGLAB_PORT].")] = None,
) -> None:
    """Serve the API, the live websocket and the dashboard (settings from REGLAB_* variables)."""
    import logging

    import uvicorn

    from reglab.api.app import create_app
    from reglab.config import Settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    typer.echo(
        f"reglab on http://{host or settings.host}:{port or settings.port} "
        f"(store {settings.database_url}, {settings.executor} executor)"
    )
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        ws="websockets-sansio",
        log_level="info",
    )


@app.command()
def submit(
    spec: Annotated[
        Path | None, typer.Argument(help="An ExperimentSpec as a JSON file.", dir_okay=False)
    ] = None,
    lesson: Annotated[str | None, typer.Option(help="A lesson by name, e.g. overfitting.")] = None,
    server: Annotated[str, typer.Option(help="The reglab server.")] = "http://127.0.0.1:8000",
    user: Annotated[str, typer.Option(help="Your display name (X-Reglab-User).")] = "anonymous",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="REGLAB_TOKEN",
            help="Your name's token; by default the one kept from the name's first use.",
        ),
    ] = None,
    every: Annotated[int, typer.Option(min=0, help="Print every Nth epoch (0: each).")] = 10,
    challenge: Annotated[
        int | None,
        typer.Option(min=1, help="Enter this challenge: FILE.json is the entry, or --set."),
    ] = None,
    name: Annotated[str, typer.Option(help="The entry's name (with --challenge).")] = "entry",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="An open field of the challenge, PATH=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Submit an experiment (or a challenge entry) to a running server and follow it live
    until every run ends."""
    from reglab import client

    to = "/api/experiments"
    if challenge is not None:
        to = client.entries_path(challenge)
        if lesson is not None or (spec is not None and set_):
            raise _fail("with --challenge give the entry as FILE.json or as --set, not both.")
    elif (lesson is None) == (spec is None):
        raise _fail("give a spec FILE.json or --lesson NAME.")
    try:
        if spec is not None:
            body: dict[str, Any] = json.loads(spec.read_text())
        elif challenge is not None:
            body = client.entry_body(name, set_ or [])
        else:
            body = {"lesson": lesson}
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {spec}: {exc}") from None
    except client.SubmitError as exc:
        raise _fail(str(exc)) from None
    try:
        created = client.submit(server, body, user=user, token=token, to=to)
        typer.echo(f"experiment {created['id']}: {len(created['runs'])} runs queued on {server}")
        final = client.follow(server, created, typer.echo, every=every)
    except client.SubmitError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot reach {server}: {exc}") from None
    for line in client.table(created, final):
        typer.echo(line)
    if challenge is not None:
        try:
            for line in client.board_lines(server, challenge, created["id"]):
                typer.echo(line)
        except (client.SubmitError, OSError) as exc:
            typer.echo(f"(the board could not be read: {exc})")
    if any(f.get("status") == RunStatus.FAILED for f in final.values()):
        raise typer.Exit(code=1)
