"""What one batched websocket message takes from a subscription's queue."""

from __future__ import annotations

from reglab.api.stream import BATCH_CHARS, _drain
from reglab.live import Frame, Hub, Subscription


def queued(n: int, size: int = 10) -> tuple[Subscription, Frame]:
    """A subscription holding frames 2..n, and frame 1 (the one its stream woke up with)."""
    subscription = Subscription(Hub(), topic=1, size=100)
    first, *rest = [Frame(cursor, "x" * size) for cursor in range(1, n + 1)]
    for frame in rest:
        subscription.queue.put_nowait(frame)
    return subscription, first


def test_a_batch_takes_what_is_queued_up_to_its_count() -> None:
    subscription, first = queued(5)
    taken, dropped = _drain(subscription, first, 3)
    assert [f.cursor for f in taken] == [1, 2, 3] and not dropped
    taken, dropped = _drain(subscription, subscription.queue.get_nowait(), 10)
    assert [f.cursor for f in taken] == [4, 5] and not dropped


def test_a_batch_stops_once_past_its_size_and_at_the_drop_mark() -> None:
    subscription, first = queued(5, size=BATCH_CHARS // 3 + 1)
    taken, _ = _drain(subscription, first, 512)
    assert [f.cursor for f in taken] == [1, 2, 3]  # the third passes the size: the rest wait
    subscription.queue.put_nowait(None)  # the hub dropped this slow subscriber
    taken, dropped = _drain(subscription, subscription.queue.get_nowait(), 512)
    assert [f.cursor for f in taken] == [4, 5] and dropped
    assert _drain(subscription, None, 512) == ([], True)
