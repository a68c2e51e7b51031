"""The live hub: committed events fanned out to websocket subscribers, never blocking the writer.

Topics are experiment ids. Each subscriber owns a bounded queue; when it is full the subscriber is
dropped (it gets `None`, then its socket is closed with RESUME_CLOSE_CODE) instead of stalling the
publisher or anyone else. It reconnects with `?since=<last cursor>` and replays from the store.

`publish` may be called from any thread; messages reach subscribers in publish order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

# A websocket close code in the private range: "you fell behind; reconnect with ?since=cursor".
RESUME_CLOSE_CODE = 4001
RESUME_REASON = "too slow: reconnect with ?since=<last cursor>"


@dataclass(frozen=True, slots=True)
class Frame:
    """One committed event ready for the wire: serialized once, sent to every subscriber."""

    cursor: int
    text: str
    snapshot_of: int | None = None  # the run a snapshot event pictures (streams may leave it out)


# What a hub carries: the server's carries Frames (reglab/journal.py makes them); the hub only
# queues and fans them out, so it is written for any message type.
M = TypeVar("M")


class Subscription(Generic[M]):
    """One subscriber's view of one topic: `get()` the next message, None once dropped."""

    def __init__(self, hub: Hub[M], topic: int, size: int) -> None:
        self.hub = hub
        self.topic = topic
        self.queue: asyncio.Queue[M | None] = asyncio.Queue(maxsize=size)
        self.dropped = False

    async def get(self) -> M | None:
        return await self.queue.get()

    def close(self) -> None:
        self.hub.unsubscribe(self)

    def _offer(self, message: M) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)
            self.hub.unsubscribe(self)
            log.info("dropped a slow subscriber of topic %s", self.topic)


class Hub(Generic[M]):
    """Topic → subscriptions, living on one asyncio loop."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._topics: dict[int, set[Subscription[M]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop subscribers live on (the server's)."""
        self._loop = loop

    def subscribe(self, topic: int) -> Subscription[M]:
        """Start receiving everything published on `topic` from now on (call on the loop)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        sub = Subscription(self, topic, self.queue_size)
        with self._lock:
            self._topics.setdefault(topic, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription[M]) -> None:
        with self._lock:
            subs = self._topics.get(sub.topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._topics[sub.topic]

    def subscribers(self, topic: int) -> int:
        with self._lock:
            return len(self._topics.get(topic, ()))

    def publish(self, messages: Iterable[tuple[int, M]]) -> None:
        """Queue (topic, message) pairs for delivery; returns at once, from any thread."""
        with self._lock:  # nobody watches: no wake-up of the loop (most batches of a class)
            batch = [(topic, m) for topic, m in messages if topic in self._topics]
        if not batch or self._loop is None or self._loop.is_closed():
            return
        # The loop may close between the check and the call (server shutting down).
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver, batch)

    def _deliver(self, batch: list[tuple[int, M]]) -> None:
        for topic, message in batch:
            with self._lock:
                subs = list(self._topics.get(topic, ()))
            for sub in subs:
                sub._offer(message)


# Close code for a stream refused because too many are open (in all, or from one client).
BUSY_CLOSE_CODE = 4429


class StreamSlots:
    """Open live streams, in all, per student and per anonymous address; refuses one past a cap.

    A student is counted by the name their token or cookie is bound to, wherever they connect
    from: a class behind one NAT, a school proxy or a container's port forwarding shares one
    address. The per-address cap holds only for streams that prove no name.
    Used from the server's loop only (no lock): `enter` before a stream starts, `leave` after.
    """

    def __init__(self, total: int, per_user: int, per_address: int) -> None:
        self.total = total
        self.per_user = per_user
        self.per_address = per_address
        self._open: dict[str, int] = {}
        self.count = 0

    @staticmethod
    def key(user: str | None, address: str) -> str:
        """Whom a stream counts against: the bound name if it proved one, else its address."""
        return f"user:{user}" if user is not None else f"address:{address}"

    def enter(self, key: str) -> str | None:
        """Admit a stream counted against `key` (None), or say why not."""
        if self.count >= self.total:
            return f"the server has {self.count} live streams open, its limit; retry later."
        if key.startswith("user:"):
            if self._open.get(key, 0) >= self.per_user:
                return f"{self.per_user} live streams are open under your name, its limit."
        elif self._open.get(key, 0) >= self.per_address:
            return (
                f"{self.per_address} live streams are open from your address without a name, "
                "its limit; choose a name on the page to have your own."
            )
        self._open[key] = self._open.get(key, 0) + 1
        self.count += 1
        return None

    def leave(self, key: str) -> None:
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)
        self.count -= 1
