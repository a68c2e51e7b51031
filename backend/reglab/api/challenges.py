"""/api/challenges: a teacher sets a challenge, students enter it, the board, close and reveal."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from reglab import board, challenges
from reglab.api.deps import (
    ADMIN_HEADER,
    MAX_STORED_INT,
    USER_HEADER,
    Caller,
    CallerDep,
    RuntimeDep,
    submitting,
)
from reglab.api.schemas import ChallengeRead, ExperimentRead
from reglab.errors import Forbidden, Unauthorized
from reglab.jobs.runtime import Runtime
from reglab.store.challenges import ChallengeRecord
from reglab.store.codec import wire_json

router = APIRouter(prefix="/api/challenges", tags=["challenges"])
ChallengeId = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="A challenge's id.")]


def _read(challenge: ChallengeRecord, runtime: Runtime, caller: Caller | None) -> ChallengeRead:
    left = None
    if caller is not None and caller.name != "anonymous":
        used = runtime.store.count_entries(challenge.id, caller.name)
        left = challenges.entries_left(challenge, used)
    return ChallengeRead.of(challenge, entries_left=left)


def _admin(caller: Caller, runtime: Runtime, action: str) -> None:
    if not runtime.settings.admin_token:
        raise Forbidden(
            "This server has no admin token; set REGLAB_ADMIN_TOKEN and restart to use it."
        )
    if not caller.admin:
        raise Forbidden(
            f"Only the teacher may {action} a challenge: send the admin token in {ADMIN_HEADER}."
        )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChallengeRead)
def create_challenge(
    body: challenges.ChallengeCreate, caller: CallerDep, runtime: RuntimeDep
) -> Any:
    """Set a challenge (admin token): the server trains its baselines at once."""
    _admin(caller, runtime, "create")
    return _read(challenges.create(runtime, body=body, owner=caller.name), runtime, None)


@router.get("", response_model=list[ChallengeRead])
def list_challenges(runtime: RuntimeDep) -> Any:
    """Every challenge, newest first."""
    return [_read(c, runtime, None) for c in runtime.store.list_challenges()]


@router.get("/{challenge_id}", response_model=ChallengeRead)
def read_challenge(challenge_id: ChallengeId, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """One challenge, with the entries the caller (by name) has left."""
    return _read(runtime.store.get_challenge(challenge_id), runtime, caller)


@router.post(
    "/{challenge_id}/entries", status_code=status.HTTP_201_CREATED, response_model=ExperimentRead
)
def submit_entry(
    challenge_id: ChallengeId,
    entry: challenges.EntryCreate,
    caller: CallerDep,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
) -> Any:
    """Enter the challenge: the base with the open fields the override changes, trained on
    the challenge's R seeds. A name's first use binds it, as for any submission."""
    if caller.name == "anonymous":
        raise Unauthorized(
            f"An entry is scored under its student's name: choose a name ({USER_HEADER}) first."
        )
    runtime.store.get_challenge(challenge_id)  # 404 before a name is bound
    with submitting(caller, runtime, request, response) as owner:
        return challenges.enter(runtime, challenge_id=challenge_id, entry=entry, owner=owner)


@dataclass(frozen=True, slots=True)
class BoardNow:
    """A board as worked out at `cursor` (at `made`, monotonic), and its JSON text: encoding
    the 180 rows of a class took longer than working them out, once per reader."""

    cursor: tuple[int, str]
    made: float
    board: dict[str, Any]
    text: str


class Boards:
    """The last board worked out per challenge of one app, with the cursor it was worked out at
    and when (one per app, beside its runtime: `app.state.boards`).

    While a class trains, an entry's run ends every fraction of a second and 60 pages read the
    board: each change of cursor would be one more computation (31-78 ms for 180 entries), most
    of them read by nobody. So a board at most `stale_s` old is served while only the cursor
    moved, one computation runs at a time per board (the others are served the last board
    meanwhile), and a change of the challenge's status (closed, revealed) is worked out at once.
    """

    def __init__(self, stale_s: float = 1.0) -> None:
        self.stale_s = stale_s
        self._made: dict[int, BoardNow] = {}
        self._computing: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def at(self, runtime: Runtime, challenge_id: int, cursor: tuple[int, str]) -> BoardNow:
        """The board, given the challenge's board cursor now (at most `stale_s` behind it)."""
        served = self._fresh(challenge_id, cursor)
        if served is not None:
            return served
        with self._guard:
            lock = self._computing.setdefault(challenge_id, threading.Lock())
        if not lock.acquire(blocking=False):
            # Another reader is working the board out: serve the last one (same status)
            # meanwhile, or wait for the new one when there is none to serve.
            cached = self._made.get(challenge_id)
            if cached is not None and cached.cursor[1] == cursor[1]:
                return cached
            lock.acquire()
        try:  # one computation per board; those who waited take its result
            served = self._fresh(challenge_id, cursor)
            if served is not None:
                return served
            challenge, experiments = runtime.store.challenge_with_experiments(challenge_id)
            used: dict[str, int] = {}
            for e in experiments:
                if e.challenge_role == challenges.ENTRY:
                    used[e.owner] = used.get(e.owner, 0) + 1
            found = board.leaderboard(challenge, experiments, used)
            # The cursor read before the records: a change between the two is worked out next.
            made = BoardNow(cursor, time.monotonic(), found, wire_json(found)[1])
            self._made[challenge_id] = made
            return made
        finally:
            lock.release()

    def _fresh(self, challenge_id: int, cursor: tuple[int, str]) -> BoardNow | None:
        cached = self._made.get(challenge_id)
        if cached is None:
            return None
        recent = time.monotonic() - cached.made < self.stale_s
        if cached.cursor == cursor or (cached.cursor[1] == cursor[1] and recent):
            return cached
        return None


def get_boards(request: Request) -> Boards:
    boards: Boards = request.app.state.boards
    return boards


@router.get("/{challenge_id}/leaderboard", response_model=None)
def read_leaderboard(
    challenge_id: ChallengeId, runtime: RuntimeDep, boards: Annotated[Boards, Depends(get_boards)]
) -> Response:
    """The board, worked out from the runs of the baselines and entries (at most a second
    behind them), as JSON encoded once for every reader."""
    board_now = boards.at(runtime, challenge_id, runtime.store.board_cursor(challenge_id))
    return Response(board_now.text, media_type="application/json")


@router.post("/{challenge_id}/close", response_model=ChallengeRead)
def close_challenge(challenge_id: ChallengeId, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Take no more entries (admin token); those queued still train."""
    _admin(caller, runtime, "close")
    return _read(runtime.store.mark_challenge(challenge_id, "closed_at"), runtime, None)


@router.post("/{challenge_id}/reveal", response_model=ChallengeRead)
def reveal_challenge(challenge_id: ChallengeId, caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Show the private test split's numbers (admin token); closes the challenge too."""
    _admin(caller, runtime, "reveal")
    return _read(runtime.store.mark_challenge(challenge_id, "revealed_at"), runtime, None)
