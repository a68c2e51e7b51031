"""WS /ws/experiments/{id}?batch=1: the same events as one per message, in JSON arrays."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from reglab.api.stream import BATCH_MAX, EVERY_MAX_MS, REPLAY_PAGE
from reglab.live import RESUME_CLOSE_CODE, Frame
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from api.conftest import LiveServer, collect, is_done
from tests.support import wait_for

pytestmark = pytest.mark.slow


def body(epochs: int, variants: int = 2) -> dict[str, Any]:
    return {
        "name": "batch test",
        "base": {
            "train": {"epochs": epochs, "snapshot_every": 5},
            "data": {"n_train": 60},
            "model": {"hidden": [16]},
        },
        "variants": [
            {"name": f"l2={i / 100}", "override": {"regularization": {"l2": i / 100}}}
            for i in range(variants)
        ],
    }


def batches(
    live: LiveServer, experiment_id: int, run_ids: set[int], since: int = 0, timeout: float = 90
) -> list[list[dict[str, Any]]]:
    """The batched stream's messages after `since` (each a list), until every run is done."""
    received: list[list[dict[str, Any]]] = []
    url = f"{live.ws_url}/ws/experiments/{experiment_id}?since={since}&batch=1"
    with connect(url) as ws:
        while not is_done([m for batch in received for m in batch], run_ids):
            batch = json.loads(ws.recv(timeout=timeout))
            assert isinstance(batch, list) and batch, batch
            received.append(batch)
    return received


def test_a_batched_replay_holds_the_same_events_as_the_unbatched_one_in_pages(
    server: LiveServer,
) -> None:
    # 2 runs x 60 epochs: more events than a replay page, so the replay takes several messages.
    created = server.submit(body(epochs=60))
    run_ids = {r["id"] for r in created["runs"]}
    server.wait_finished(created["id"])
    single = collect(server, created["id"], run_ids)

    pages = batches(server, created["id"], run_ids)

    assert [m for page in pages for m in page] == single
    assert len(single) > REPLAY_PAGE
    assert all(len(page) <= REPLAY_PAGE for page in pages)
    assert len(pages) == -(-len(single) // REPLAY_PAGE)  # whole pages, one message each


def test_a_batched_stream_resumes_after_its_cursor_exactly_once(server: LiveServer) -> None:
    created = server.submit(body(epochs=40))
    run_ids = {r["id"] for r in created["runs"]}
    # Live: taken while the runs train; each event once, in cursor order.
    live = [m for batch in batches(server, created["id"], run_ids) for m in batch]
    cursors = [m["cursor"] for m in live]
    assert cursors == sorted(set(cursors))
    epochs = [(m["run_id"], m["epoch"]) for m in live if m["type"] == "epoch"]
    assert sorted(epochs) == sorted({(r, e) for r in run_ids for e in range(1, 41)})
    server.wait_finished(created["id"])
    everything = collect(server, created["id"], run_ids)
    assert live == everything
    # Resuming from a cursor in the middle gives exactly what follows it.
    middle = everything[len(everything) // 2]["cursor"]
    resumed = [m for b in batches(server, created["id"], run_ids, since=middle) for m in b]
    assert resumed == [m for m in everything if m["cursor"] > middle]


def test_a_stream_asked_for_some_runs_pictures_leaves_out_only_the_others_snapshots(
    server: LiveServer,
) -> None:
    created = server.submit(body(epochs=70, variants=3))  # snapshots of 3 runs, several pages
    run_ids = [r["id"] for r in created["runs"]]
    server.wait_finished(created["id"])
    everything = collect(server, created["id"], set(run_ids))
    pictured = run_ids[1]

    def kept(since: int) -> list[dict[str, Any]]:
        return [
            m
            for m in everything
            if m["cursor"] > since and (m["type"] != "snapshot" or m["run_id"] == pictured)
        ]

    url = f"{server.ws_url}/ws/experiments/{created['id']}?batch=1&snapshots={pictured}"
    got = [m for batch in _read(url, len(kept(0))) for m in batch]
    assert got == kept(0)
    assert {m["run_id"] for m in got if m["type"] == "snapshot"} == {pictured}
    assert len(everything) > 2 * REPLAY_PAGE  # a replay of several pages, each with some left out
    # Resumed from a cursor (a snapshot of another run among what follows): the same filter.
    middle = everything[len(everything) // 2]["cursor"]
    again = [m for batch in _read(f"{url}&since={middle}", len(kept(middle))) for m in batch]
    assert again == kept(middle)


def _read(url: str, count: int) -> list[list[dict[str, Any]]]:
    """The batched messages of a stream until `count` events have come, then nothing more."""
    received: list[list[dict[str, Any]]] = []
    with connect(url) as ws:
        while sum(map(len, received)) < count:
            received.append(json.loads(ws.recv(timeout=30)))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1)
    return received


def _caught_up(ws: ClientConnection, live: LiveServer, experiment_id: int, count: int) -> None:
    """Read the replay of `count` events, then wait for the live subscription."""
    seen = 0
    while seen < count:
        seen += len(json.loads(ws.recv(timeout=10)))
    hub = live.runtime.hub
    wait_for(lambda: hub.subscribers(experiment_id) == 1, 10, "the live subscription")


def _finished(server: LiveServer) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """A small finished experiment, its stored events, and its batched stream's URL from 0."""
    created = server.submit(body(epochs=2, variants=1))
    run_ids = {r["id"] for r in created["runs"]}
    server.wait_finished(created["id"])
    stored = collect(server, created["id"], run_ids)
    return created, stored, f"{server.ws_url}/ws/experiments/{created['id']}?since=0&batch=1"


@contextlib.contextmanager
def _live(server: LiveServer, query: str = "") -> Iterator[tuple[ClientConnection, int, int]]:
    """The batched stream (`query` added) of a small finished experiment, its replay read and its
    live subscription made: the socket, the last stored cursor and the experiment's id."""
    created, stored, url = _finished(server)
    with connect(url + query) as ws:
        _caught_up(ws, server, created["id"], len(stored))
        yield ws, stored[-1]["cursor"], created["id"]


def _probe(cursor: int) -> Frame:
    return Frame(cursor, json.dumps({"type": "probe", "cursor": cursor}))


def test_live_events_waiting_together_go_in_one_message_and_old_ones_are_left_out(
    server: LiveServer,
) -> None:
    hub = server.runtime.hub
    with _live(server) as (ws, last, experiment_id):
        # Published together: queued before the stream wakes, so sent as one message. One at
        # or below the cursor already sent (a commit the replay had) is left out.
        hub.publish([(experiment_id, _probe(c)) for c in (last, last + 1, last + 2, last + 3)])
        assert [m["cursor"] for m in json.loads(ws.recv(timeout=10))] == [
            last + 1,
            last + 2,
            last + 3,
        ]
        hub.publish([(experiment_id, _probe(last + 4))])
        assert [m["cursor"] for m in json.loads(ws.recv(timeout=10))] == [last + 4]


def test_a_paced_stream_sends_live_messages_at_most_every_interval_and_loses_no_event(
    server: LiveServer,
) -> None:
    hub = server.runtime.hub
    every = 0.4
    count = 40
    messages: list[list[dict[str, Any]]] = []
    with _live(server, f"&every={round(every * 1000)}") as (ws, last, experiment_id):
        started = time.monotonic()
        for i in range(1, count + 1):  # one at a time, 25 ms apart: 40 messages unpaced
            hub.publish([(experiment_id, _probe(last + i))])
            time.sleep(0.025)
        spent = time.monotonic() - started
        while sum(map(len, messages)) < count:
            messages.append(json.loads(ws.recv(timeout=10)))

    assert [m["cursor"] for b in messages for m in b] == list(range(last + 1, last + count + 1))
    # Sends at least `every` apart, from the first publish to at most `every` after the last:
    # however slowly this machine published, no more messages than that span holds.
    assert len(messages) <= 2 + spent / every, (len(messages), spent)


def test_a_paced_stream_does_not_wait_while_a_message_has_left_events_behind(
    server: LiveServer,
) -> None:
    hub = server.runtime.hub
    burst = BATCH_MAX + 88  # more than one message holds
    with _live(server, f"&every={EVERY_MAX_MS}") as (ws, last, experiment_id):
        hub.publish([(experiment_id, _probe(last + i)) for i in range(1, burst + 1)])
        first = json.loads(ws.recv(timeout=10))
        after_first = time.monotonic()
        second = json.loads(ws.recv(timeout=10))
        gap = time.monotonic() - after_first
    assert (len(first), len(second)) == (BATCH_MAX, 88)
    # Paced, the second would come a whole interval (1 s) later; it is sent at once.
    assert gap < 0.8 * EVERY_MAX_MS / 1000, gap


def test_a_batched_client_that_falls_behind_is_closed_with_the_resume_code(
    server: LiveServer,
) -> None:
    created, stored, url = _finished(server)
    hub = server.runtime.hub

    with connect(url) as ws:
        _caught_up(ws, server, created["id"], len(stored))
        burst = hub.queue_size + 10  # more than its queue holds, in one go
        hub.publish([(created["id"], Frame(10**9 + i, "{}")) for i in range(burst)])
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == RESUME_CLOSE_CODE
    run_ids = {r["id"] for r in created["runs"]}
    assert [m for b in batches(server, created["id"], run_ids) for m in b] == stored
