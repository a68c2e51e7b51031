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

from reglab.errors import NotFound
from reglab.jobs.pump import wire_text
from reglab.jobs.runtime import Runtime
from reglab.live import RESUME_CLOSE_CODE, RESUME_REASON, Frame

router = APIRouter(tags=["stream"])
REPLAY_PAGE = 500
NOT_FOUND_CLOSE_CODE = 4404


async def _until_closed(websocket: WebSocket) -> None:
    """Return when the client goes away (clients send nothing we need)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


@router.websocket("/ws/experiments/{experiment_id}")
async def stream_experiment(websocket: WebSocket, experiment_id: int, since: int = 0) -> None:
    """Every event of the experiment with cursor > since, as JSON, then live ones as they come."""
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    try:
        await run_in_threadpool(runtime.store.get_experiment, experiment_id)
    except NotFound as exc:
        await websocket.close(code=NOT_FOUND_CLOSE_CODE, reason=str(exc))
        return
    subscription = runtime.hub.subscribe(experiment_id)
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        last = since
        while True:
            page = await run_in_threadpool(
                runtime.store.replay, experiment_id, after=last, limit=REPLAY_PAGE
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
