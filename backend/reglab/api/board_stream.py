"""WS /ws/challenges/{id}?since=CURSOR&status=S: a challenge's board, again each time it changes.

A board is derived (reglab/board.py), not logged, so its stream is not a list of events: each
message is the whole board as of a cursor, {"type": "board", "cursor", "status", "board"}. The
cursor is the newest status or summary event of any of the challenge's experiments (what moves
the board; epochs do not); a close or reveal, which logs no event, changes `status`. On
connecting, the board as it stands is sent unless the client's `since` and `status` say it has
it already (a reconnect after a drop); then it is sent again whenever the two change. The store
is asked every POLL_S (one indexed max() query), and a changed board is worked out once for all
its watchers.

The stream counts against the same caps as an experiment's (per student, per nameless address,
in all).
"""

from __future__ import annotations

import asyncio

import anyio
from fastapi import APIRouter, WebSocket

from reglab.api.challenges import Boards
from reglab.api.sockets import (
    NOT_FOUND_CLOSE_CODE,
    close,
    readers,
    send,
    serve,
    until_closed,
    whole,
)
from reglab.errors import NotFound
from reglab.jobs.runtime import Runtime
from reglab.store.codec import wire_json

router = APIRouter(tags=["stream"])
POLL_S = 1.0  # a board a second behind is live enough for a class watching entries finish


def _board_text(
    boards: Boards, runtime: Runtime, topic: int, now: tuple[int, str]
) -> tuple[tuple[int, str], str]:
    """The board message, given the board cursor now, and the cursor it was worked out at (the
    board itself is shared by every watcher and reader: api/challenges.Boards)."""
    made = boards.at(runtime, topic, now)
    cursor, status = made.cursor
    head = wire_json({"type": "board", "cursor": cursor, "status": status})[1]
    return made.cursor, f'{head[:-1]},"board":{made.text}}}'


@router.websocket("/ws/challenges/{challenge_id}")
async def stream_board(
    websocket: WebSocket, challenge_id: str, since: str = "0", status: str = ""
) -> None:
    """The challenge's board now (unless the client has it: since and status), then again
    whenever it changes."""

    def parse() -> tuple[int, tuple[int, str]]:
        return whole(challenge_id, "the challenge id", 1), (whole(since, "since", 0), status)

    async def body(runtime: Runtime, asked: tuple[int, tuple[int, str]]) -> None:
        await _follow(websocket, runtime, *asked)

    await serve(websocket, parse, body)


async def _follow(
    websocket: WebSocket, runtime: Runtime, topic: int, seen: tuple[int, str]
) -> None:
    """Send the board whenever its cursor or status moves (a slow or gone client ends it:
    sockets.serve)."""
    timeout = runtime.settings.ws_send_timeout_s
    closed = asyncio.create_task(until_closed(websocket))
    limiter = readers(websocket)
    try:
        while not closed.done():
            try:
                now = await anyio.to_thread.run_sync(
                    runtime.store.board_cursor, topic, limiter=limiter
                )
            except NotFound as exc:
                await close(websocket, NOT_FOUND_CLOSE_CODE, str(exc), timeout)
                return
            if now != seen:
                at, text = await anyio.to_thread.run_sync(
                    _board_text, websocket.app.state.boards, runtime, topic, now, limiter=limiter
                )
                if at != seen:  # a board a moment behind `now` is sent once; the rest follows
                    await send(websocket, text, timeout)
                    seen = at
            await asyncio.wait({closed}, timeout=POLL_S)
    finally:
        closed.cancel()
