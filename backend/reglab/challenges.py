"""Challenges: a teacher's fixed task with open fields and a budget; entries and baselines.

A challenge is stored above experiments (store/challenges.py). Its baselines and each student's
entry are ordinary experiments tagged with it, trained by the same scheduler; its board is
worked out from their runs (reglab/board.py). Its data has four splits: train, validation, a
small public test split (scored on the board) and a large private one (the test split, whose
numbers the store seals until the reveal).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reglab.errors import Conflict, InvalidEntry, QuotaExceeded, SpecError, sentence
from reglab.jobs.runtime import Runtime
from reglab.spec import (
    MAX_EPOCHS,
    MAX_PRIVATE_TEST,
    MAX_PUBLIC_TEST,
    MAX_REPEATS,
    ExperimentSpec,
    RunSpec,
    Variant,
)
from reglab.store.challenges import ChallengeRecord
from reglab.store.records import ExperimentRecord

BASELINES = "baselines"
ENTRY = "entry"
MAX_ENTRIES = 50
# What the server trains as baselines: simple is the base; medium the lecture's first remedy;
# strong the candidate with the lowest mean final validation loss (chosen on validation, not
# on the public board, which would be tuning to the test).
MEDIUM = {"regularization": {"l2": 0.01}}
STRONG_CANDIDATES: dict[str, dict[str, Any]] = {
    "strong l2=0.003": {"regularization": {"l2": 0.003}},
    "strong l2=0.03": {"regularization": {"l2": 0.03}},
    "strong dropout=0.3 l2=0.005": {"regularization": {"dropout": 0.3, "l2": 0.005}},
}
# The task itself: a student who changed the data would change the test splits too.
FIXED_SECTIONS = ("data",)


def baseline_owner(challenge: int) -> str:
    """Who owns a challenge's baselines: a name no one can bind (':' is not allowed in names),
    one per challenge, so two challenges' baselines do not share one user's quotas."""
    return f"reglab:baselines-{challenge}"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` merged into a copy of `base`, section by section (as a variant's override)."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        both = isinstance(value, dict) and isinstance(old, dict)
        merged[key] = _merge(old, value) if both else value  # type: ignore[arg-type]
    return merged


def leaves(spec: dict[str, Any]) -> dict[str, Any]:
    """A RunSpec-shaped dict as {"section.key": value}."""
    out: dict[str, Any] = {}
    for section, body in spec.items():
        if isinstance(body, dict):
            for key, value in body.items():
                out[f"{section}.{key}"] = value
        else:
            out[section] = body
    return out


OPEN_PATHS = frozenset(
    path for path in leaves(RunSpec().model_dump()) if path.split(".")[0] not in FIXED_SECTIONS
)


class ChallengeCreate(BaseModel):
    """What a teacher posts: the task (a lesson's base, or a base; both: the lesson's base with
    `base` merged in), the fields students may change, the budget and the metric."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    title: str = Field(min_length=1, max_length=80)
    description: str = Field("", max_length=2000)
    lesson: str | None = Field(None, max_length=80, description="A lesson whose base is the task.")
    base: dict[str, Any] | None = Field(
        None, description="The task as a RunSpec (merged over the lesson's base, if one is named)."
    )
    open: list[str] = Field(
        min_length=1, max_length=32, description="RunSpec paths students may change."
    )
    repeats: int = Field(3, ge=1, le=MAX_REPEATS, description="Seeds per entry (count).")
    max_entries: int = Field(3, ge=1, le=MAX_ENTRIES, description="Entries per student.")
    max_epochs: int | None = Field(
        None,
        ge=1,
        le=MAX_EPOCHS,
        description="Most epochs an entry may train; default: the base's.",
    )
    metric: Literal["accuracy", "loss"] = "accuracy"
    public_test: int = Field(40, ge=10, le=MAX_PUBLIC_TEST, description="Public test points.")
    private_test: int = Field(2000, ge=100, le=MAX_PRIVATE_TEST, description="Private test points.")

    @model_validator(mode="after")
    def _task_named(self) -> ChallengeCreate:
        if self.lesson is None and self.base is None:
            raise SpecError(("lesson",), "name a lesson or give a base: the task to set.")
        for i, path in enumerate(self.open):
            if path not in OPEN_PATHS:
                why = (
                    "the data set is the task, and stays fixed"
                    if path.split(".")[0] in FIXED_SECTIONS
                    else "it is not a field of a run"
                )
                raise SpecError(("open", i), f"{path!r} cannot be opened: {why}.")
        return self


def task_spec(body: ChallengeCreate) -> RunSpec:
    """The challenge's base: the lesson's (and/or the body's), its data with both test splits."""
    from reglab.presets import LESSONS  # the lessons' specs are built on first use

    base: dict[str, Any] = {}
    if body.lesson is not None:
        found = LESSONS.get(body.lesson)
        if found is None:
            names = ", ".join(LESSONS)
            raise InvalidEntry(
                "lesson", f"there is no lesson {body.lesson!r}; choose one of: {names}."
            )
        base = found.spec.base.model_dump()
    base = _merge(base, body.base or {})
    base = _merge(
        base, {"data": {"public_test": body.public_test, "private_test": body.private_test}}
    )
    spec = _validated(base, "base")
    if body.metric == "accuracy" and spec.data.task == "regression":
        raise InvalidEntry("metric", "a regression task has no accuracy; choose metric 'loss'.")
    cap = body.max_epochs or spec.train.epochs
    if spec.train.epochs > cap:
        raise InvalidEntry(
            "max_epochs",
            f"the base trains {spec.train.epochs} epochs, over max_epochs {cap}; raise it.",
        )
    return spec


def _validated(spec: dict[str, Any], where: str) -> RunSpec:
    """A RunSpec, or a 422 naming the field (under `where`) and why."""
    try:
        return RunSpec.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc: tuple[Any, ...] = tuple(err["loc"])
        inner = (err.get("ctx") or {}).get("error")
        msg = sentence(err)
        if isinstance(inner, SpecError):
            loc, msg = (*loc, *inner.loc), inner.msg
        raise InvalidEntry(".".join([where, *(str(p) for p in loc)]), msg) from None


def baselines_spec(challenge: ChallengeRecord) -> ExperimentSpec:
    """The baselines as one experiment: simple, medium and the strong candidates, R seeds each."""
    variants = [
        Variant(name="simple"),
        Variant(name="medium", override=MEDIUM),
        *(Variant(name=n, override=o) for n, o in STRONG_CANDIDATES.items()),
    ]
    return ExperimentSpec(
        name=f"{challenge.title}: baselines",
        base=RunSpec.model_validate(challenge.base),
        variants=variants,
        repeats=challenge.repeats,
        reference="simple",
    )


def create(runtime: Runtime, *, body: ChallengeCreate, owner: str) -> ChallengeRecord:
    """Store the challenge, then queue its baselines (the server trains them now)."""
    base = task_spec(body)
    challenge = runtime.store.create_challenge(
        title=body.title,
        description=body.description,
        lesson=body.lesson,
        owner=owner,
        base=base.model_dump(mode="json"),
        open=list(dict.fromkeys(body.open)),
        repeats=body.repeats,
        max_entries=body.max_entries,
        max_epochs=body.max_epochs or base.train.epochs,
        metric=body.metric,
    )
    try:
        runtime.scheduler.submit(
            owner=baseline_owner(challenge.id),
            spec=baselines_spec(challenge),
            tag=(challenge.id, BASELINES),
        )
    except BaseException:  # e.g. the server's queue is full: no challenge without baselines
        runtime.store.delete_challenge(challenge.id)
        raise
    return challenge


class EntryCreate(BaseModel):
    """A student's entry: a name, and the open fields it changes, nested as in RunSpec."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=40, pattern=r"^[\w .:+=\-]+$")
    override: dict[str, Any] = Field(default_factory=dict)


def entry_spec(challenge: ChallengeRecord, entry: EntryCreate) -> ExperimentSpec:
    """The entry as an experiment: the base with its override, R seeds; a 422 naming the field
    for a locked field, a value a run cannot take, or more epochs than the budget."""
    opened = set(challenge.open)
    for path in leaves(entry.override):
        if path not in opened:
            allowed = ", ".join(challenge.open)
            raise InvalidEntry(
                f"override.{path}",
                f"{path} is locked in this challenge; an entry may change only: {allowed}.",
            )
    spec = _validated(_merge(challenge.base, entry.override), "override")
    if spec.train.epochs > challenge.max_epochs:
        raise InvalidEntry(
            "override.train.epochs",
            f"{spec.train.epochs} epochs is over this challenge's budget of "
            f"{challenge.max_epochs}; train at most {challenge.max_epochs}.",
        )
    return ExperimentSpec(
        name=entry.name,
        base=spec,
        variants=[Variant(name=entry.name)],
        repeats=challenge.repeats,
    )


# One entry of a student at a time: two at once must not both pass the count of entries left.
_guard = threading.Lock()
_locks: dict[tuple[int, int, str], threading.Lock] = {}


def _lock(runtime: Runtime, challenge_id: int, owner: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault((id(runtime), challenge_id, owner), threading.Lock())


def entries_left(challenge: ChallengeRecord, used: int) -> int:
    return max(challenge.max_entries - used, 0)


def enter(
    runtime: Runtime, *, challenge_id: int, entry: EntryCreate, owner: str
) -> ExperimentRecord:
    """Queue a student's entry: 409 once the challenge is closed, 422 for a bad entry, 429
    when the student has no entries left. Nothing is stored unless it is queued."""
    with _lock(runtime, challenge_id, owner):
        challenge = runtime.store.get_challenge(challenge_id)
        if challenge.status != "open":
            raise Conflict(
                f"Challenge {challenge.id} is {challenge.status}: it takes no more entries."
            )
        spec = entry_spec(challenge, entry)
        used = runtime.store.count_entries(challenge.id, owner)
        left = entries_left(challenge, used)
        if left == 0:
            raise QuotaExceeded(
                f"{owner} has 0 entries left in challenge {challenge.id}: all "
                f"{challenge.max_entries} are used."
            )
        return runtime.scheduler.submit(owner=owner, spec=spec, tag=(challenge.id, ENTRY))
