"""A class behind one address: live streams are counted per student, not per address."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from reglab.events import EpochEvent, StatusEvent
from reglab.live import BUSY_CLOSE_CODE
from reglab.spec import ExperimentSpec
from reglab.store.log import EventLog
from reglab.store.repo import Store
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from api.conftest import LiveServer, settings_for, start_server

CAP = 2  # per student and per anonymous address: small, so the test opens few streams
STUDENTS = 5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    tmp = tmp_path_factory.mktemp("nat")
    store = Store(f"sqlite:///{tmp / 'reglab.db'}")
    experiment, _ = store.create_experiment(
        owner="teacher", spec=ExperimentSpec.model_validate({"base": {"train": {"epochs": 1}}})
    )
    run = experiment.runs[0].id
    EventLog(store).record([StatusEvent(run, "running")])
    EventLog(store).record(
        [EpochEvent(run, 1, 0.5, 0.6, 0.8, 0.7, 0.01, 1.0, 1.0, 0.0, [0.1], 0.01, 0.1)]
    )
    store.close()
    live = start_server(settings_for(tmp, workers=1, ws_max_per_user=CAP, ws_max_per_client=CAP))
    yield live, experiment.id
    live.stop()


def admitted(
    streams: contextlib.ExitStack, live: LiveServer, experiment_id: int, token: str | None
) -> ClientConnection:
    """A stream that received its first replayed event (so the server counted it)."""
    headers = {"X-Reglab-Token": token} if token else {}
    url = f"{live.ws_url}/ws/experiments/{experiment_id}"
    ws = streams.enter_context(connect(url, additional_headers=headers))
    ws.recv(timeout=30)
    return ws


def refused_reason(live: LiveServer, experiment_id: int, token: str | None) -> str:
    headers = {"X-Reglab-Token": token} if token else {}
    with (
        connect(f"{live.ws_url}/ws/experiments/{experiment_id}", additional_headers=headers) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == BUSY_CLOSE_CODE
    return closed.value.rcvd.reason


def test_students_behind_one_address_each_get_their_own_streams(
    served: tuple[LiveServer, int],
) -> None:
    live, experiment_id = served
    tokens = [
        live.http.post("/api/identity", json={"name": f"student{i}"}).json()["token"]
        for i in range(STUDENTS)
    ]
    with contextlib.ExitStack() as streams:
        # Every student opens as many streams as their cap allows, all from 127.0.0.1: far more
        # than one address's cap, and all admitted.
        for token in tokens:
            for _ in range(CAP):
                admitted(streams, live, experiment_id, token)
        assert live.app.state.streams.count == STUDENTS * CAP
        assert "under your name" in refused_reason(live, experiment_id, tokens[0])
        # Streams that prove no name are still held to the address's cap.
        for _ in range(CAP):
            admitted(streams, live, experiment_id, None)
        assert "from your address" in refused_reason(live, experiment_id, None)
        # A token nobody holds counts as no name, not as a new student.
        assert "from your address" in refused_reason(live, experiment_id, "not-a-real-token")
