"""What a local worker tells its pool: typed messages that cross a pipe whole, and a failure
whose kind is its type, with the sentence a student reads."""

from __future__ import annotations

import pickle

from reglab.events import RunStatus, StatusEvent
from reglab.jobs.messages import Done, Events, OutOfMemory, Ready, TrainingError
from reglab.jobs.worker import failure_of

# What torch 2.13's CPU allocator raised under a worker's RLIMIT_AS (a plain RuntimeError).
TORCH_REFUSAL = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 4294967296 bytes. Error code 12 (Cannot allocate memory)"
)


def test_every_message_survives_the_pipe_equal_to_what_was_sent() -> None:
    said = [
        Ready(),
        Events("e1-g1", [StatusEvent(7, RunStatus.RUNNING)]),
        Done("e1-g1"),
        Done("e1-g2", OutOfMemory(50_000_000, "MemoryError")),
        Done("e1-g3", TrainingError("ValueError", "bad shape")),
    ]
    assert [pickle.loads(pickle.dumps(m)) for m in said] == said


def test_a_refused_allocation_is_out_of_memory_and_says_what_to_change() -> None:
    failure = failure_of(RuntimeError(TORCH_REFUSAL + "\nmore lines"), 3 << 30)
    assert isinstance(failure, OutOfMemory)
    sentence = failure.sentence()
    assert sentence.startswith("This group needed more memory than the worker's memory cap (")
    assert "use a smaller batch_size, narrower layers or fewer variants" in sentence
    assert "can't allocate memory" in sentence and "more lines" not in sentence
    uncapped = failure_of(MemoryError(), None)
    assert isinstance(uncapped, OutOfMemory)
    assert "more memory than the memory it could get" in uncapped.sentence()
    assert uncapped.sentence().endswith("(MemoryError)")


def test_any_other_error_fails_the_group_with_its_type_and_text() -> None:
    failure = failure_of(ValueError("can't allocate memory, says a message"), None)
    assert failure == TrainingError("ValueError", "can't allocate memory, says a message")
    assert failure.sentence() == "ValueError: can't allocate memory, says a message"
    assert failure_of(RuntimeError("shapes differ"), 1).sentence() == "RuntimeError: shapes differ"
