"""A local worker process's life: warm up, then train one group after another for its pool.

The pool (`local.py`) spawns each worker with its own pipes: tasks come in on one, typed messages
(`messages.py`) go out on the other, and cancellations arrive on a queue the worker reads only
when a shared counter says something new is there. A worker dies with its server, caps its own
memory, and turns whatever training raised into a typed failure instead of dying itself.
"""

from __future__ import annotations

import ctypes
import logging
import os
import resource
import signal
import sys
import threading
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from reglab.events import Event
from reglab.jobs.messages import (
    Done,
    Events,
    Failure,
    OutOfMemory,
    Ready,
    TrainingError,
    WorkerMessage,
)
from reglab.jobs.warmup import warm_up

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# A training worker checks that its server lives every this many should_stop calls (a few per
# step); an idle one every PARENT_CHECK_S seconds.
PARENT_CHECK_EVERY = 64
PARENT_CHECK_S = 1.0
# The hard memory cap: warm size + MEMORY_MARGIN × the group's allowance + MEMORY_SLACK. Address
# space runs ahead of resident memory (allocator arenas, torch's reservations), hence the margin.
MEMORY_MARGIN = 1.5
MEMORY_SLACK = 256 << 20


def run_worker(
    results: Connection,
    tasks: Connection,
    cancels: Any,
    generation: Synchronized[int],
    memory_cap: int | None,
    nice: int,
) -> None:
    """A worker's life: warm up, then train one group after another until told to stop."""
    parent = os.getppid()
    _die_with_parent(parent)
    if nice:
        # Training is throughput work; the API process beside it answers people. With as many
        # workers as cores, an equal priority left REST p99 at hundreds of ms (bench/class.py).
        os.nice(nice)
    warm_up()
    from reglab.training.loop import train_bursts

    cap = _cap_memory(memory_cap) if memory_cap is not None else None
    outbox = _Outbox(results)
    outbox.send(Ready())
    current: str | None = None
    cancelled: set[int] = set()
    seen = 0
    calls = 0

    def should_stop(run_id: int) -> bool:
        nonlocal seen, calls
        calls += 1
        if calls % PARENT_CHECK_EVERY == 0 and os.getppid() != parent:
            os._exit(3)  # the server is gone (where no parent-death signal exists)
        # Called every step for every member: a shared counter read is far cheaper than a queue.
        if generation.value != seen:
            seen = generation.value
            while not cancels.empty():
                group_id, run_ids = cancels.get()
                if group_id == current:  # a late cancel of an earlier group is not for us
                    cancelled.update(run_ids)
        return run_id in cancelled

    while True:
        task = _next_task(tasks, parent)
        if task is None:
            return
        group_id, group = task
        current = group_id
        cancelled.clear()
        failure: Failure | None = None
        try:
            for burst in train_bursts(group, should_stop):
                outbox.events(group_id, burst)
        except Exception as exc:  # any failure of training fails the group, not the worker
            failure = failure_of(exc, cap)
            if isinstance(failure, TrainingError):
                log.exception("group %s failed", group_id)
        outbox.send(Done(group_id, failure))


def failure_of(exc: BaseException, cap: int | None) -> Failure:
    """What training raised, as the failure the pool reports."""
    if isinstance(exc, MemoryError) or _allocator_refused(exc):
        text = str(exc)
        first = text.splitlines()[0] if text else type(exc).__name__
        return OutOfMemory(cap, first[:200])
    return TrainingError(type(exc).__name__, str(exc))


def _allocator_refused(exc: BaseException) -> bool:
    """torch's CPU allocator reports a refused allocation as a plain RuntimeError, not a
    MemoryError (torch 2.13: "DefaultCPUAllocator: can't allocate memory: you tried to allocate
    … Error code 12"; older ones said "not enough memory"). Its text is the only sign, so it is
    read here, once, where torch's error becomes a typed failure."""
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "not enough memory" in text
    )


class _Outbox:
    """What a worker says, sent by a thread of its own: everything said while the last message
    was on its way goes as one message. Training says an epoch's events in bursts (its metrics,
    then its snapshots and endings: `Lockstep.bursts`), handed over a burst at a time, so a
    30-member group sends about one pipe message per epoch instead of 30 (each costs the server
    a wake-up, a read and an unpickling) and wakes this thread once per burst, not per member
    (each wake took the interpreter from training). An event waits for no timer: the thread
    sends as soon as it holds the interpreter, while training computes."""

    def __init__(self, results: Connection) -> None:
        self._results = results
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._events: list[Event] = []
        self._group: str | None = None
        self._busy = False
        self._broken: BaseException | None = None
        threading.Thread(target=self._run, name="reglab-outbox", daemon=True).start()

    def events(self, group_id: str, events: list[Event]) -> None:
        with self._cond:
            if self._broken is not None:
                raise self._broken
            self._events += events
            self._group = group_id
            self._cond.notify()

    def send(self, message: WorkerMessage) -> None:
        """Send a message after every event said before it."""
        with self._cond:
            while (self._events or self._busy) and self._broken is None:
                self._cond.wait()
        with self._send_lock:
            self._results.send(message)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._events:
                    self._cond.wait()
                events, self._events = self._events, []
                group, self._busy = self._group, True
            try:
                assert group is not None  # set with the events it came with
                with self._send_lock:
                    self._results.send(Events(group, events))
            except BaseException as exc:  # the server is gone: say so to the training thread
                with self._cond:
                    self._broken = exc
                    self._busy = False
                    self._cond.notify_all()
                return
            with self._cond:
                self._busy = False
                self._cond.notify_all()


def _next_task(tasks: Connection, parent: int) -> Any:
    """The next task, or None to stop; an idle worker also checks that its server lives."""
    try:
        while not tasks.poll(PARENT_CHECK_S):
            if os.getppid() != parent:
                return None
        return tasks.recv()
    except (EOFError, OSError):  # the server closed its end
        return None


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when the server dies (prctl PR_SET_PDEATHSIG).

    The signal fires when the *thread* that spawned the worker ends, so the pool spawns only
    from threads that live as long as the server (its start and its reader thread).
    """
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            log.warning("no parent-death signal here; workers watch their server instead")
    if os.getppid() != parent:  # the server died before the signal was asked for
        os._exit(3)


def _cap_memory(group_bytes: int) -> int:
    """A hard cap on this process's address space: what it uses warm, plus what one group may
    need with a margin. A group past it fails with MemoryError instead of taking the machine."""
    warm = _address_space()
    cap = warm + int(group_bytes * MEMORY_MARGIN) + MEMORY_SLACK
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError) as exc:
        log.warning("cannot cap worker memory at %d bytes: %s", cap, exc)
    return cap


def _address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS counts)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
