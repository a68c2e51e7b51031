"""WS /ws/challenges/{id}?since=CURSOR&status=S: a challenge's board, again each time it changes.

A board is derived (reglab/board.py), not logged, so its stream is not a list of events: each
message is the whole board as of a cursor, {"type": "board", "cursor", "status", "board"}. The
cursor is the newest status or summary event of any of the challenge's experiments (what moves
the board; epochs do not); a close or reveal, which logs no event, changes `status`. On
connecting, the board as it stands is sent unless the client's `since` and `status` say it has
it already (a reconnect after a drop); then it is sent again whenever the two change. The store
is asked every POLL_S (one indexed max() query), and a changed board is worked out once for all
its watchers.

The stream counts against the same per-client and global caps as an experiment's.
"""

from __future__ import annotations

import asyncio
import threading

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from reglab.api.challenges import leaderboard_of
from reglab.api.stream import (
    INVALID_CLOSE_CODE,
    NOT_FOUND_CLOSE_CODE,
    _close,
    _Deaf,
    _readers,
    _send,
    _until_closed,
    _whole,
)
from reglab.errors import NotFound
from reglab.jobs.runtime import Runtime
from reglab.live import BUSY_CLOSE_CODE, RESUME_CLOSE_CODE, RESUME_REASON, Admission
from reglab.store.codec import wire_json

router = APIRouter(tags=["stream"])
POLL_S = 1.0  # a board a second behind is live enough for a class watching entries finish


# The newest board message of each challenge, by (runtime, challenge): a class of 60 watching
# one board computes it once per change, not 60 times.
_made: dict[tuple[int, int], tuple[tuple[int, str], str]] = {}
_made_lock = threading.Lock()


def _board_text(runtime: Runtime, topic: int, now: tuple[int, str]) -> str:
    """The board message as of `now` (cursor, status), made once for every watcher."""
    key = (id(runtime), topic)
    with _made_lock:
        made = _made.get(key)
    if made is not None and made[0] == now:
        return made[1]
    found = leaderboard_of(runtime, topic)
    message = {"type": "board", "cursor": now[0], "status": now[1], "board": found}
    text = wire_json(message)[1]
    with _made_lock:
        _made[key] = (now, text)
    return text


@router.websocket("/ws/challenges/{challenge_id}")
async def stream_board(
    websocket: WebSocket, challenge_id: str, since: str = "0", status: str = ""
) -> None:
    """The challenge's board now (unless the client has it: since and status), then again
    whenever it changes."""
    runtime: Runtime = websocket.app.state.runtime
    timeout = runtime.settings.ws_send_timeout_s
    admission: Admission = websocket.app.state.streams
    await websocket.accept()
    try:
        topic = _whole(challenge_id, "the challenge id", 1)
        seen = (_whole(since, "since", 0), status)
    except ValueError as exc:
        await _close(websocket, INVALID_CLOSE_CODE, str(exc), timeout)
        return
    client = websocket.client.host if websocket.client else "?"
    refused = admission.enter(client)
    if refused is not None:
        await _close(websocket, BUSY_CLOSE_CODE, refused, timeout)
        return
    closed = asyncio.create_task(_until_closed(websocket))
    readers = _readers(websocket)
    try:
        while not closed.done():
            try:
                now = await anyio.to_thread.run_sync(
                    runtime.store.board_cursor, topic, limiter=readers
                )
            except NotFound as exc:
                await _close(websocket, NOT_FOUND_CLOSE_CODE, str(exc), timeout)
                return
            if now != seen:
                text = await anyio.to_thread.run_sync(
                    _board_text, runtime, topic, now, limiter=readers
                )
                await _send(websocket, text, timeout)
                seen = now
            await asyncio.wait({closed}, timeout=POLL_S)
    except _Deaf:
        await _close(websocket, RESUME_CLOSE_CODE, RESUME_REASON, 1.0)
    except (WebSocketDisconnect, RuntimeError):
        return  # the client left mid-send
    finally:
        closed.cancel()
        admission.leave(client)
