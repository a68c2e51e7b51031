"""What every live websocket does (an experiment's stream, a challenge's board): read its query
after the handshake, take a stream slot, send within a timeout and close with a reason.

Parsed after the handshake, not before: a browser sees a close code and a sentence, not a bare
403. A client that does not take a message within the send timeout is dropped with
RESUME_CLOSE_CODE (it reconnects with its cursor); one that leaves mid-send is let go.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from fastapi import WebSocket, WebSocketDisconnect

from reglab.api.deps import MAX_STORED_INT, TOKEN_COOKIE, TOKEN_HEADER, secret_hash
from reglab.jobs.runtime import Runtime
from reglab.live import BUSY_CLOSE_CODE, RESUME_CLOSE_CODE, RESUME_REASON, StreamSlots

NOT_FOUND_CLOSE_CODE = 4404
INVALID_CLOSE_CODE = 4422
# Store reads of all live websockets at once (replay pages, boards), off the event loop.
READERS = 4

Asked = TypeVar("Asked")


class Deaf(Exception):
    """The client did not take a message within the send timeout."""


def whole(text: str, name: str, least: int, most: int = MAX_STORED_INT) -> int:
    """`text` as an integer from `least` to `most` (at most what the store can hold), or
    ValueError with a sentence naming `name`."""
    if not (text.isascii() and text.isdigit()) or not least <= int(text) <= most:
        raise ValueError(f"{name} must be a whole number from {least} to {most}.")
    return int(text)


async def serve(
    websocket: WebSocket,
    parse: Callable[[], Asked],
    body: Callable[[Runtime, Asked], Awaitable[None]],
) -> None:
    """Accept the socket, read its query with `parse` (a ValueError closes it with 4422 and
    the sentence), take a stream slot (none free: 4429 and why), run `body`, and give the slot
    back however it ends."""
    runtime: Runtime = websocket.app.state.runtime
    timeout = runtime.settings.ws_send_timeout_s
    await websocket.accept()
    try:
        asked = parse()
    except ValueError as exc:
        await close(websocket, INVALID_CLOSE_CODE, str(exc), timeout)
        return
    slots: StreamSlots = websocket.app.state.streams
    user = await anyio.to_thread.run_sync(_bound_name, websocket, runtime)
    key = StreamSlots.key(user, websocket.client.host if websocket.client else "?")
    refused = slots.enter(key)
    if refused is not None:
        await close(websocket, BUSY_CLOSE_CODE, refused, timeout)
        return
    try:
        await body(runtime, asked)
    except Deaf:
        await close(websocket, RESUME_CLOSE_CODE, RESUME_REASON, 1.0)
    except (WebSocketDisconnect, RuntimeError):
        return  # the client left mid-send
    finally:
        slots.leave(key)


def _bound_name(websocket: WebSocket, runtime: Runtime) -> str | None:
    """The name the stream's token (header) or the page's cookie is bound to, if any."""
    secret = websocket.headers.get(TOKEN_HEADER) or websocket.cookies.get(TOKEN_COOKIE)
    return runtime.store.name_of(secret_hash(secret)) if secret else None


def readers(websocket: WebSocket) -> anyio.CapacityLimiter:
    """The app's limiter of store reads for live websockets (never the HTTP routes' threads)."""
    state = websocket.app.state
    if not hasattr(state, "replay_readers"):  # made on the loop, where anyio wants it
        state.replay_readers = anyio.CapacityLimiter(READERS)
    limiter: anyio.CapacityLimiter = state.replay_readers
    return limiter


async def until_closed(websocket: WebSocket) -> None:
    """Return when the client goes away (clients send nothing we need)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def send(websocket: WebSocket, text: str, timeout: float) -> None:
    """Send one message, or raise Deaf when the client does not take it in `timeout` s."""
    try:
        await asyncio.wait_for(websocket.send_text(text), timeout)
    except TimeoutError:
        raise Deaf from None


async def close(websocket: WebSocket, code: int, reason: str, timeout: float) -> None:
    """Close with a code and reason, unless the client cannot even take that."""
    with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError):
        await asyncio.wait_for(websocket.close(code=code, reason=reason), timeout)
