"""WS /ws/experiments/{id}?since=CURSOR: what is stored after the cursor, then live, exactly once.

Subscribe to the hub first, then replay from the store, then forward live messages with a cursor
above the last one sent. Anything committed before the subscription is in the replay; anything
after it is in the queue; the cursor filter drops what is in both.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from reglab.api.deps import MAX_STORED_INT
from reglab.errors import NotFound
from reglab.jobs.pump import wire_text
from reglab.jobs.runtime import Runtime
from reglab.live import RESUME_CLOSE_CODE, RESUME_REASON, Frame

router = APIRouter(tags=["stream"])
REPLAY_PAGE = 500
NOT_FOUND_CLOSE_CODE = 4404
INVALID_CLOSE_CODE = 4422


async def _until_closed(websocket: WebSocket) -> None:
    """Return when the client goes away (clients send nothing we need)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


def _whole(text: str, name: str, least: int) -> int:
    """`text` as an integer the store can hold, or ValueError with a sentence naming `name`."""
    if not (text.isascii() and text.isdigit()) or not least <= int(text) <= MAX_STORED_INT:
        raise ValueError(f"{name} must be a whole number from {least} to {MAX_STORED_INT}.")
    return int(text)


@router.websocket("/ws/experiments/{experiment_id}")
async def stream_experiment(websocket: WebSocket, experiment_id: str, since: str = "0") -> None:
    """Every event of the experiment with cursor > since, as JSON, then live ones as they come."""
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    # Parsed here, after the handshake: a browser sees a close code and reason, not a bare 403.
    try:
        topic = _whole(experiment_id, "the experiment id", 1)
        last = _whole(since, "since", 0)
    except ValueError as exc:
        await websocket.close(code=INVALID_CLOSE_CODE, reason=str(exc))
        return
    try:
        await run_in_threadpool(runtime.store.get_experiment, topic)
    except NotFound as exc:
        await websocket.close(code=NOT_FOUND_CLOSE_CODE, reason=str(exc))
        return
    subscription = runtime.hub.subscribe(topic)
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        while True:
            page = await run_in_threadpool(
                runtime.store.replay, topic, after=last, limit=REPLAY_PAGE
            )
            for logged in page:
                await websocket.send_text(wire_text(logged.message))
                last = logged.seq
            if len(page) < REPLAY_PAGE:
                break
        while True:
            message = asyncio.ensure_future(subscription.get())
            await asyncio.wait({message, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not message.done():
                message.cancel()
                return
            frame: Frame | None = message.result()
            if frame is None:
                await websocket.close(code=RESUME_CLOSE_CODE, reason=RESUME_REASON)
                return
            if frame.cursor > last:
                await websocket.send_text(frame.text)
                last = frame.cursor
    except (WebSocketDisconnect, RuntimeError):
        return  # the client left mid-send
    finally:
        subscription.close()
        closed.cancel()
