"""The live hub: order, topics, publishing from threads, and dropping a slow subscriber."""

from __future__ import annotations

import asyncio
import threading

from reglab.live import Hub


def test_subscriber_gets_its_topic_in_publish_order() -> None:
    async def scenario() -> list[int]:
        hub = Hub()
        sub = hub.subscribe(1)
        hub.publish([(1, {"cursor": 1}), (2, {"cursor": 2}), (1, {"cursor": 3})])
        got = [await sub.get(), await sub.get()]
        return [m["cursor"] for m in got if m is not None]

    assert asyncio.run(scenario()) == [1, 3]


def test_messages_published_from_another_thread_arrive_in_order() -> None:
    async def scenario() -> list[int]:
        hub = Hub()
        sub = hub.subscribe(7)

        def writer() -> None:
            for i in range(200):
                hub.publish([(7, {"cursor": i})])

        thread = threading.Thread(target=writer)
        thread.start()
        got = []
        for _ in range(200):
            message = await asyncio.wait_for(sub.get(), 5)
            assert message is not None
            got.append(message["cursor"])
        thread.join()
        return got

    assert asyncio.run(scenario()) == list(range(200))


def test_slow_subscriber_is_dropped_while_others_keep_receiving() -> None:
    async def scenario() -> tuple[object, int, int]:
        hub = Hub(queue_size=10)
        slow, fast = hub.subscribe(1), hub.subscribe(1)
        received = 0
        for i in range(30):
            hub.publish([(1, {"cursor": i})])
            await asyncio.sleep(0)
            while not fast.queue.empty():
                await fast.get()
                received += 1
        return await slow.get(), received, hub.subscribers(1)

    first_for_slow, received, left = asyncio.run(scenario())
    assert first_for_slow is None  # dropped: told to resume, not fed a partial stream
    assert received == 30
    assert left == 1


def test_closed_subscription_receives_nothing_more() -> None:
    async def scenario() -> int:
        hub = Hub()
        sub = hub.subscribe(1)
        sub.close()
        hub.publish([(1, {"cursor": 1})])
        await asyncio.sleep(0.01)
        return sub.queue.qsize() + hub.subscribers(1)

    assert asyncio.run(scenario()) == 0
