"""WS /ws/experiments/{id}?since=CURSOR: what is stored after the cursor, then live, exactly once.

With `&batch=1` each message is a JSON array of events (each with its own cursor): a replay page
goes as one message, and live events already waiting for the client when one is sent go with it
(at most BATCH_MAX of them). The browser pays its per-message cost (dispatch, JSON.parse) once per
array instead of once per epoch. Without it, one event per message, as before. With
`&snapshots=RUN,RUN,…`, other runs' snapshot events are left out (read, never sent). With
`&every=MS` (batched only) live messages go at most every MS milliseconds: what comes meanwhile
waits and goes together. A browser pays a fixed cost for each message it is handed (a task of its
main thread: receiving, dispatching, parsing), and on a slow laptop those tasks, slipped between
frames, are what stretch them.

Subscribe to the hub first, then replay from the store, then forward live messages with a cursor
above the last one sent. Anything committed before the subscription is in the replay; anything
after it is in the queue; the cursor filter drops what is in both.

Bounded: streams are admitted up to a global and a per-client cap; the replay is read a small page
at a time (serialized in a worker thread, a few at once, never in the threads HTTP routes use);
a message a client does not take within the send timeout drops that client, so a deaf client
holds at most one page and the socket's buffer, and slows no one.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import anyio
from fastapi import APIRouter, FastAPI, WebSocket

from reglab.api.sockets import (
    NOT_FOUND_CLOSE_CODE,
    close,
    readers,
    send,
    serve,
    until_closed,
    whole,
)
from reglab.config import Settings
from reglab.errors import NotFound
from reglab.jobs.runtime import Runtime
from reglab.live import RESUME_CLOSE_CODE, RESUME_REASON, Frame, StreamSlots, Subscription
from reglab.spec import MAX_MEMBERS

router = APIRouter(tags=["stream"])
# Events per replay page: about 1 MB of text with the largest snapshots (boundary grids).
REPLAY_PAGE = 64
# Live events sent in one batched message at most (those already queued when it is sent), and
# the text they may add up to, as a replay page's: a burst of snapshots goes in several.
BATCH_MAX = 512
BATCH_CHARS = 1_000_000
# The longest `every=` a stream may ask for, in ms: a page held back a second is still live.
EVERY_MAX_MS = 1000
# Runs a stream may name in `snapshots=`: an experiment has at most MAX_MEMBERS runs.
SNAPSHOT_RUNS_MAX = MAX_MEMBERS


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the stream, with its caps counted on the app."""
    app.state.streams = StreamSlots(
        settings.ws_max_connections, settings.ws_max_per_user, settings.ws_max_per_client
    )
    app.include_router(router)


def _page(runtime: Runtime, topic: int, after: int) -> list[Frame]:
    """The next replay page as frames: read and serialized off the event loop."""
    return runtime.journal.page(topic, after=after, limit=REPLAY_PAGE)


def _runs(text: str) -> frozenset[int] | None:
    """`snapshots=1,7,13`: the runs whose snapshots the client wants (None: every run's)."""
    if text == "":
        return None
    parts = text.split(",")
    if len(parts) > SNAPSHOT_RUNS_MAX:
        raise ValueError(f"snapshots may name at most {SNAPSHOT_RUNS_MAX} runs.")
    return frozenset(whole(part, "each run id in snapshots", 1) for part in parts)


def _flag(text: str, name: str) -> bool:
    if text not in ("0", "1", "true", "false"):
        raise ValueError(f"{name} must be 1 or 0 (true or false).")
    return text in ("1", "true")


@dataclass(frozen=True, slots=True)
class _Asked:
    """How a client asked for its events: `batched` in JSON arrays; the snapshots of `pictured`
    runs only (None: every run's); live messages at least `every` seconds apart (0: at once)."""

    batched: bool
    pictured: frozenset[int] | None
    every: float

    @classmethod
    def parse(cls, batch: str, snapshots: str, every: str) -> _Asked:
        batched = _flag(batch, "batch")
        ms = whole(every, "every (milliseconds)", 0, EVERY_MAX_MS)
        if ms and not batched:
            raise ValueError("every needs batch=1: unbatched, each event is a message of its own.")
        return cls(batched, _runs(snapshots), ms / 1000)


def _batch(texts: list[str]) -> str:
    """Serialized events as one JSON array, without encoding them again."""
    return "[" + ",".join(texts) + "]"


@router.websocket("/ws/experiments/{experiment_id}")
async def stream_experiment(
    websocket: WebSocket,
    experiment_id: str,
    since: str = "0",
    batch: str = "0",
    snapshots: str = "",
    every: str = "0",
) -> None:
    """Every event of the experiment with cursor > since, as JSON, then live ones as they come;
    with batch=1, as JSON arrays of events; with snapshots=RUN,RUN,… the snapshots of those runs
    only (a page that pictures each variant's first seed takes a fifth of an R = 5 lesson's
    pictures, which were more than half of its stream); with every=MS (and batch=1), live
    messages at most every MS ms."""

    def parse() -> tuple[int, int, _Asked]:
        topic = whole(experiment_id, "the experiment id", 1)
        return topic, whole(since, "since", 0), _Asked.parse(batch, snapshots, every)

    async def body(runtime: Runtime, asked: tuple[int, int, _Asked]) -> None:
        await _stream(websocket, runtime, *asked)

    await serve(websocket, parse, body)


def _drain(
    subscription: Subscription[Frame], first: Frame | None, most: int
) -> tuple[list[Frame], bool]:
    """`first` and the frames already queued after it (`most` in all), and whether the
    subscription was dropped (its None met) on the way."""
    if first is None:
        return [], True
    frames = [first]
    size = len(first.text)
    while len(frames) < most and size < BATCH_CHARS:
        try:
            frame: Frame | None = subscription.queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        if frame is None:
            return frames, True
        frames.append(frame)
        size += len(frame.text)
    return frames, False


async def _send_events(
    websocket: WebSocket,
    frames: list[Frame],
    asked: _Asked,
    timeout: float,
) -> None:
    """Send frames, one message each or all in one, leaving out the snapshots of runs the client
    does not picture (when it named the ones it does)."""
    pictured = asked.pictured
    texts = [
        frame.text
        for frame in frames
        if pictured is None or frame.snapshot_of is None or frame.snapshot_of in pictured
    ]
    if asked.batched and texts:
        await send(websocket, _batch(texts), timeout)
        return
    for text in texts:
        await send(websocket, text, timeout)


async def _stream(
    websocket: WebSocket, runtime: Runtime, topic: int, last: int, asked: _Asked
) -> None:
    """Replay after `last`, then live (a slow or gone client ends it: sockets.serve)."""
    timeout = runtime.settings.ws_send_timeout_s
    limiter = readers(websocket)
    try:
        await anyio.to_thread.run_sync(runtime.store.get_experiment, topic, limiter=limiter)
    except NotFound as exc:
        await close(websocket, NOT_FOUND_CLOSE_CODE, str(exc), timeout)
        return
    subscription = runtime.hub.subscribe(topic)
    closed = asyncio.create_task(until_closed(websocket))
    try:
        while True:
            page = await anyio.to_thread.run_sync(_page, runtime, topic, last, limiter=limiter)
            await _send_events(websocket, page, asked, timeout)
            last = page[-1].cursor if page else last  # read, whether sent or left out
            if len(page) < REPLAY_PAGE:
                break
        sent = -math.inf  # when the last live message went
        loop = asyncio.get_running_loop()
        while True:
            message = asyncio.ensure_future(subscription.get())
            await asyncio.wait({message, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not message.done():
                message.cancel()
                return
            # Paced: the first event after a quiet spell goes at once, later ones wait for the
            # interval and go together (unless the last message left some behind: no waiting
            # then, or a fast experiment would outrun a paced client).
            pause = sent + asked.every - loop.time()
            if pause > 0:
                await asyncio.wait({closed}, timeout=pause)
                if closed.done():
                    return
            most = BATCH_MAX if asked.batched else 1
            frames, dropped = _drain(subscription, message.result(), most)
            fresh = [frame for frame in frames if frame.cursor > last]
            await _send_events(websocket, fresh, asked, timeout)
            last = fresh[-1].cursor if fresh else last
            sent = loop.time() if subscription.queue.empty() else -math.inf
            if dropped:
                await close(websocket, RESUME_CLOSE_CODE, RESUME_REASON, timeout)
                return
    finally:
        subscription.close()
        closed.cancel()
