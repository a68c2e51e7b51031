"""Run statuses: one enum, its final set, and the wire form the page reads."""

from __future__ import annotations

import json
import pickle

from reglab.events import FINAL_STATUSES, TRAINED_STATUSES, RunStatus, StatusEvent


def test_only_queued_and_running_are_not_final() -> None:
    assert {s for s in RunStatus if not s.is_final} == {RunStatus.QUEUED, RunStatus.RUNNING}
    assert {
        "completed",
        "stopped_early",
        "diverged",
        "cancelled",
        "failed",
        "interrupted",
    } == FINAL_STATUSES


def test_only_runs_that_trained_to_an_end_of_their_own_count() -> None:
    # A diverged run counts (it reports its best weights); a cancelled or failed one does not.
    assert {"completed", "stopped_early", "diverged"} == TRAINED_STATUSES
    assert all(s.is_final for s in TRAINED_STATUSES)


def test_a_status_event_crosses_processes_and_the_wire_as_plain_text() -> None:
    event = StatusEvent(3, RunStatus.STOPPED_EARLY, "stopped")
    assert pickle.loads(pickle.dumps(event)) == event
    assert json.loads(json.dumps(event.to_dict()))["status"] == "stopped_early"
