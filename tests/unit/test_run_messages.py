"""The page says a run's status message in Chinese by matching the sentences the backend writes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from reglab.spec import RunSpec
from reglab.training.loop import _CANCELLED, _diverged_message, _stopped_message

ROOT = Path(__file__).resolve().parents[2]
PARSE = """
import { parseRunMessage } from "./frontend/views/run-message.js";
const messages = JSON.parse(process.argv[1]);
console.log(JSON.stringify(messages.map((m) => parseRunMessage(m))));
"""


def parsed(messages: list[str]) -> list[dict[str, object] | None]:
    """frontend/views/run-message.js's reading of each message, run by node as the page runs it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("This test needs node >= 18 (`sudo apt-get install -y nodejs`).", pytrace=False)
    out = subprocess.run(
        [node, "--input-type=module", "-e", PARSE, json.dumps(messages)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: list[dict[str, object] | None] = json.loads(out.stdout)
    return result


def test_every_ending_the_loop_writes_is_read_with_its_numbers() -> None:
    kept = RunSpec.model_validate({"regularization": {"patience": 7, "restore_best": True}})
    lost = RunSpec.model_validate({"regularization": {"patience": 7, "restore_best": False}})
    fast = RunSpec.model_validate({"optimizer": {"lr": 1e-5}})
    messages = [
        _stopped_message(40, 33, kept),
        _stopped_message(40, 33, lost),
        _diverged_message(12, "nan", fast),
        _diverged_message(1, "inf", fast),
        _CANCELLED,
        "Cancelled before it started.",
        "Cancelled; the identical run it shared goes on for the others.",
        "Trained all 200 epochs.",
    ]
    found = parsed(messages)
    assert [f and f["key"] for f in found] == [
        "message.stoppedKept",
        "message.stoppedNotKept",
        "message.divergedBest",
        "message.divergedInitial",
        "message.cancelled",
        "message.cancelledQueued",
        "message.cancelledShared",
        "message.completed",
    ]
    assert found[0] and found[0]["values"] == {
        "epoch": "40",
        "patience": "7",
        "best": "33",
        "kept": "kept",
    }
    assert found[2] and found[2]["values"] == {
        "epoch": "12",
        "bad": "nan",
        "lr": "1e-05",
        "kept": "those of its best epoch",
    }
    assert found[7] and found[7]["values"] == {"epochs": "200"}


def test_a_message_the_page_does_not_know_stays_the_apis() -> None:
    assert parsed(["Stopped by the time limit: a group may train for 10 min.", ""]) == [None, None]
