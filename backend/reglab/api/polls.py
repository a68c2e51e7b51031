"""/api/polls: predict, then watch: students answer, the teacher starts, the runs decide.

Each route reads polls through store/polls.py, whose records hold the other students' choices
back until the outcome is stored; the outcome is worked out here, on the first read after the
poll's runs have all finished (reglab.polls.outcome, from their stored summaries).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, field_validator

from reglab import polls
from reglab.api.deps import MAX_STORED_INT, CallerDep, RuntimeDep, require_admin
from reglab.api.lessons import lesson_names, lesson_spec
from reglab.errors import Forbidden, NotFound
from reglab.jobs.runtime import Runtime
from reglab.spec import MAX_EPOCHS, MAX_REPEATS, ExperimentSpec
from reglab.store import polls as stored
from reglab.store.polls import PollRecord

router = APIRouter(prefix="/api/polls", tags=["polls"])
PollId = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="A poll's id.")]


class PollCreate(BaseModel):
    """A lesson and the question its runs will answer; optionally fewer epochs, more seeds."""

    lesson: str = Field(max_length=80)
    question: str = Field(
        max_length=40,
        description="What the runs decide: lowest-final-val-loss, most-zero-weights, or claim:N "
        "(will the lesson's N-th claim hold? N counts from 1).",
    )
    repeats: int | None = Field(
        None,
        ge=polls.MIN_REPEATS,
        le=MAX_REPEATS,
        description="Seeds per variant (at least 3; default: the lesson's, at least 3).",
    )
    epochs: int | None = Field(
        None, ge=1, le=MAX_EPOCHS, description="Epochs of every run (default: the lesson's)."
    )

    @field_validator("question")
    @classmethod
    def _known(cls, question: str) -> str:
        if not polls.is_question(question):
            raise ValueError(
                "ask lowest-final-val-loss, most-zero-weights, or claim:N (N a claim's number)."
            )
        return question


class AnswerCreate(BaseModel):
    choice: str = Field(max_length=80)


class PollRead(BaseModel):
    """A poll as the caller may see it: others' choices only as `spread`, once it is done."""

    id: int
    lesson: str
    question: str
    text: str
    state: stored.PollState
    choices: list[str]
    answers: int
    mine: str | None
    experiment: int | None
    outcome: dict[str, Any] | None
    spread: dict[str, int] | None


class Started(BaseModel):
    experiment: int


def _read(poll: PollRecord) -> dict[str, Any]:
    return {
        "id": poll.id,
        "lesson": poll.lesson,
        "question": poll.question,
        "text": polls.question_text(poll.question, poll.spec),
        "state": poll.state,
        "choices": poll.choices,
        "answers": poll.answers,
        "mine": poll.mine,
        "experiment": poll.experiment_id,
        "outcome": poll.outcome,
        "spread": poll.spread,
    }


def _decided(runtime: Runtime, poll: PollRecord, viewer: str | None) -> PollRecord:
    """The poll, its outcome stored first if its runs have all finished since the last read."""
    if poll.state != stored.PollState.RUNNING or poll.experiment_id is None:
        return poll
    try:
        runs = runtime.store.get_experiment(poll.experiment_id).runs
    except NotFound:  # the teacher deleted the experiment: nothing can decide it any more
        gone: dict[str, Any] = {
            "choice": None,
            "sureness": "its experiment was deleted",
            "numbers": {},
        }
        return stored.settle(runtime.store, poll.id, gone, viewer=viewer)
    decided = polls.outcome(
        poll.question,
        runs,
        lambda run: runtime.store.metrics(run.id, limit=MAX_EPOCHS),
        poll.lesson,
    )
    if decided is None:
        return poll
    return stored.settle(runtime.store, poll.id, decided, viewer=viewer)


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PollRead)
def open_poll(body: PollCreate, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Open a poll on a lesson (the teacher): students answer until it is started."""
    require_admin(caller, runtime.settings, "Opening a poll")
    lesson = lesson_spec(body.lesson)
    if lesson is None:
        names = ", ".join(lesson_names())
        raise _invalid("lesson", f"there is no lesson {body.lesson!r}; choose one of: {names}.")
    index = polls.claim_index(body.question)
    if index is not None and index >= len(lesson.claims):
        raise _invalid(
            "question",
            f"{body.lesson} states {len(lesson.claims)} claims: ask claim:1 to "
            f"claim:{len(lesson.claims)}.",
        )
    spec = polls.poll_spec(lesson, repeats=body.repeats, epochs=body.epochs)
    poll = stored.create_poll(
        runtime.store,
        lesson=body.lesson,
        question=body.question,
        choices=polls.choices(spec, body.question),
        spec=spec.model_dump(mode="json"),
    )
    return _read(poll)


@router.get("", response_model=list[PollRead])
def list_polls(runtime: RuntimeDep) -> Any:
    """The newest polls (answer counts; the spread of those decided)."""
    return [_read(_decided(runtime, p, None)) for p in stored.list_polls(runtime.store)]


@router.get("/{poll_id}", response_model=PollRead)
def read_poll(poll_id: PollId, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """The poll: how many answered, your own answer, and once the runs are over the outcome."""
    viewer = caller.name if caller.verified else None
    return _read(_decided(runtime, stored.get_poll(runtime.store, poll_id, viewer=viewer), viewer))


@router.post("/{poll_id}/answers", status_code=status.HTTP_201_CREATED, response_model=PollRead)
def answer_poll(poll_id: PollId, body: AnswerCreate, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Answer once, before the teacher starts the runs (your name must be yours: its cookie)."""
    if not caller.verified:
        raise Forbidden("Answering a poll needs your name: choose one on this browser first.")
    poll = stored.get_poll(runtime.store, poll_id, viewer=caller.name)
    if poll.state == stored.PollState.OPEN and body.choice not in poll.choices:
        raise _invalid("choice", f"choose one of: {', '.join(poll.choices)}.")
    return _read(stored.answer(runtime.store, poll_id, name=caller.name, choice=body.choice))


@router.post("/{poll_id}/start", response_model=Started)
def start_poll(poll_id: PollId, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Close answering and launch the lesson once for the class (the teacher)."""
    require_admin(caller, runtime.settings, "Starting a poll")
    poll = stored.close_answers(runtime.store, poll_id)
    try:
        experiment = runtime.scheduler.submit(
            owner=f"poll:{poll.id}", spec=ExperimentSpec.model_validate(poll.spec)
        )
    except BaseException:
        stored.reopen(runtime.store, poll.id)
        raise
    stored.set_experiment(runtime.store, poll.id, experiment.id)
    return {"experiment": experiment.id}
