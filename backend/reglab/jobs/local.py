"""The embedded executor: a warm pool of spawned worker processes, one group per worker at a time.

Each worker imports torch and the engine once at start (a cold start costs seconds here) and runs
with one torch thread, so N workers use N cores without fighting. A worker sends events back on
its own pipe; one reader thread in the API process waits on every pipe and every process sentinel
at once, so a dead worker's last events are always delivered before its group is reported done.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from reglab.jobs.cost import human_bytes
from reglab.jobs.executor import EventSink, Executor
from reglab.training.plan import Group

log = logging.getLogger(__name__)
_CTX = mp.get_context("spawn")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# A training worker checks that its server lives every this many should_stop calls (a few per
# step); an idle one every PARENT_CHECK_S seconds.
PARENT_CHECK_EVERY = 64
PARENT_CHECK_S = 1.0
# The hard memory cap: warm size + MEMORY_MARGIN × the group's allowance + MEMORY_SLACK. Address
# space runs ahead of resident memory (allocator arenas, torch's reservations), hence the margin.
MEMORY_MARGIN = 1.5
MEMORY_SLACK = 256 << 20


def _worker_main(
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
    import torch

    torch.set_num_threads(1)
    # The first torch.optim optimizer pulls in torch._dynamo (seconds): pay it before work comes.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    from reglab.training.loop import train_bursts

    _warm_up(train_bursts)
    cap = _cap_memory(memory_cap) if memory_cap is not None else None
    outbox = _Outbox(results)
    outbox.send(("ready", None, None))
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
        error: str | None = None
        try:
            for burst in train_bursts(group, should_stop):
                outbox.events(group_id, burst)
        except MemoryError as exc:
            error = _out_of_memory(cap, exc)
        except Exception as exc:  # any failure of training fails the group, not the worker
            if "can't allocate memory" in str(exc) or "not enough memory" in str(exc):
                error = _out_of_memory(cap, exc)
            else:
                log.exception("group %s failed", group_id)
                error = f"{type(exc).__name__}: {exc}"
        outbox.send(("done", group_id, error))


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
        self._events: list[Any] = []
        self._group: str | None = None
        self._busy = False
        self._broken: BaseException | None = None
        threading.Thread(target=self._run, name="reglab-outbox", daemon=True).start()

    def events(self, group_id: str, events: list[Any]) -> None:
        with self._cond:
            if self._broken is not None:
                raise self._broken
            self._events += events
            self._group = group_id
            self._cond.notify()

    def send(self, message: tuple[str, str | None, Any]) -> None:
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
                with self._send_lock:
                    self._results.send(("events", group, events))
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


def _out_of_memory(cap: int | None, exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = f"the worker's memory cap ({human_bytes(cap)})" if cap else "the memory it could get"
    return (
        f"This group needed more memory than {where}, which its estimate did not foresee; "
        f"use a smaller batch_size, narrower layers or fewer variants. ({first[:200]})"
    )


def _warm_up(train_bursts: Any) -> None:
    """Train one tiny run and throw it away: the first real epoch then comes without delay."""
    from reglab.spec import RunSpec
    from reglab.training.plan import Member

    spec = RunSpec.model_validate(
        {"data": {"n_train": 20}, "model": {"hidden": [4]}, "train": {"epochs": 1}}
    )
    try:
        for _ in train_bursts(Group((Member(-1, "warm-up", spec),))):
            pass
    except Exception:  # a broken engine shows itself on the first real group, with its reason
        log.exception("warm-up run failed")


@dataclass
class _Worker:
    process: BaseProcess
    results: Connection
    tasks: Connection
    cancels: Any
    generation: Synchronized[int]
    ready: bool = False
    group_id: str | None = None
    run_ids: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    kill_reason: str | None = None


class LocalExecutor(Executor):
    """`workers` warm processes on this machine; see executor.py for the contract."""

    def __init__(
        self,
        *,
        workers: int,
        cancel_grace_s: float = 3.0,
        memory_cap_bytes: int | None = None,
        pidfile: Path | None = None,
        nice: int = 0,
    ) -> None:
        self._size = workers
        self._grace = cancel_grace_s
        self._memory_cap = memory_cap_bytes  # one group's allowance; see _cap_memory
        self._pidfile = pidfile  # where this server lists its workers, for the next to reap
        self._nice = nice  # added to each worker's niceness
        self._workers: list[_Worker] = []
        self._lock = threading.RLock()
        self._sink: EventSink | None = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self._wake_r, self._wake_w = _CTX.Pipe(duplex=False)

    @property
    def slots(self) -> int:
        return self._size

    def ready_workers(self) -> int:
        with self._lock:
            return sum(w.ready for w in self._workers)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every worker has warmed up (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_workers() == self._size:
                return True
            time.sleep(0.05)
        return False

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        if self._pidfile is not None:
            reaped = reap_leftovers(self._pidfile)
            if reaped:
                log.warning("killed %d workers a previous server left running", reaped)
        with self._lock:
            self._workers = [self._spawn() for _ in range(self._size)]
            self._list_workers()
        self._reader = threading.Thread(target=self._read, name="reglab-pool-reader", daemon=True)
        self._reader.start()

    def submit(self, group_id: str, group: Group) -> None:
        with self._lock:
            worker = next((w for w in self._workers if w.group_id is None), None)
            if worker is None:
                raise RuntimeError("submit() with every worker busy; the scheduler must wait.")
            worker.group_id = group_id
            worker.run_ids = set(group.run_ids)
            worker.cancelled = set()
            worker.tasks.send((group_id, group))

    def cancel(self, run_ids: list[int]) -> None:
        wanted = set(run_ids)
        with self._lock:
            for worker in self._workers:
                hit = worker.run_ids & wanted
                if not hit or worker.group_id is None:
                    continue
                worker.cancels.put((worker.group_id, sorted(hit)))
                with worker.generation.get_lock():
                    worker.generation.value += 1
                worker.cancelled |= hit
                if worker.cancelled >= worker.run_ids:
                    timer = threading.Timer(
                        self._grace, self._kill_if_stuck, (worker, worker.group_id)
                    )
                    timer.daemon = True
                    timer.start()

    def worker_pid(self, run_id: int) -> int | None:
        """The pid of the worker training `run_id` (tests kill it to see a crash), or None."""
        with self._lock:
            for worker in self._workers:
                if run_id in worker.run_ids and worker.group_id is not None:
                    return worker.process.pid
        return None

    def shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            workers = list(self._workers)
        # Workers hold nothing worth saving (events are already sent), and a clean torch exit
        # takes seconds: kill them.
        for worker in workers:
            worker.process.kill()
        self._wake_w.send(None)
        for worker in workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)
        for worker in workers:
            worker.tasks.close()
            worker.cancels.close()
        if self._pidfile is not None:
            self._pidfile.unlink(missing_ok=True)

    # -- inside ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        receive, send = _CTX.Pipe(duplex=False)
        task_out, task_in = _CTX.Pipe(duplex=False)
        cancels = _CTX.SimpleQueue()
        generation: Synchronized[int] = _CTX.Value("q", 0)
        process = _CTX.Process(
            target=_worker_main,
            args=(send, task_out, cancels, generation, self._memory_cap, self._nice),
            name="reglab-worker",
            daemon=True,
        )
        process.start()
        send.close()  # the child holds the only sending end: EOF means it is gone
        task_out.close()
        return _Worker(process, receive, task_in, cancels, generation)

    def _list_workers(self) -> None:
        """Write the workers' pids where the next server looks for leftovers (locked)."""
        if self._pidfile is None:
            return
        try:
            write_pidfile(self._pidfile, [w.process.pid for w in self._workers if w.process.pid])
        except OSError as exc:
            log.warning("cannot list workers in %s: %s", self._pidfile, exc)

    def _kill_if_stuck(self, worker: _Worker, group_id: str) -> None:
        with self._lock:
            if worker.group_id != group_id or not worker.process.is_alive():
                return
            worker.kill_reason = (
                f"the worker did not stop within {self._grace:g} s and was replaced"
            )
        log.warning("killing worker %s: group %s ignored its cancel", worker.process.pid, group_id)
        worker.process.kill()

    def _read(self) -> None:
        """Forward worker messages to the sink; notice dead workers and replace them."""
        while True:
            try:
                if self._read_once():
                    return
            except Exception:  # this thread is the pool's only ear: it must not die
                log.exception("local executor: reading worker messages failed")

    def _read_once(self) -> bool:
        """Wait for and handle what is ready; True once shut down and every worker is gone."""
        with self._lock:
            if self._stopping and all(not w.process.is_alive() for w in self._workers):
                return True
            by_conn: dict[object, _Worker] = {w.results: w for w in self._workers}
            by_sentinel: dict[object, _Worker] = {w.process.sentinel: w for w in self._workers}
        handles: list[Any] = [self._wake_r, *by_conn, *by_sentinel]
        ready = wait(handles, timeout=1.0)
        if self._wake_r in ready:
            self._wake_r.recv()
        for conn in ready:
            worker = by_conn.get(conn)
            if worker is not None:
                self._drain(worker)
        for sentinel in ready:
            dead = by_sentinel.get(sentinel)
            if dead is not None:
                self._bury(dead)
        return False

    def _drain(self, worker: _Worker) -> None:
        try:
            while worker.results.poll():
                self._handle(worker, worker.results.recv())
        except (EOFError, OSError):
            pass  # the worker is gone; its sentinel tells the rest

    def _handle(self, worker: _Worker, message: tuple[str, str | None, Any]) -> None:
        kind, group_id, payload = message
        assert self._sink is not None
        if kind == "ready":
            with self._lock:
                worker.ready = True
        elif kind == "events" and group_id is not None:
            for event in payload:
                self._sink.event(group_id, event)
        elif kind == "done" and group_id is not None:
            with self._lock:
                worker.group_id, worker.run_ids, worker.cancelled = None, set(), set()
            self._sink.group_done(group_id, payload)

    def _bury(self, worker: _Worker) -> None:
        """A worker died: deliver what it said, fail its group, and start a replacement."""
        self._drain(worker)
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        with self._lock:
            if worker not in self._workers:
                return
            group_id, reason = worker.group_id, worker.kill_reason
            self._workers.remove(worker)
            # A worker that died by itself before it was ready would die again: replacing it
            # would spin. One killed here (a cancel it could not hear while warming up) is not.
            if not self._stopping and (worker.ready or reason is not None):
                self._workers.append(self._spawn())
                self._list_workers()
            elif not worker.ready:
                log.error("a worker died while starting (exit code %s); see its log", code)
        worker.results.close()
        if group_id is not None and not self._stopping and self._sink is not None:
            cancelled = reason is not None
            if reason is None:
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                reason = f"the worker process died ({how}) while training this run"
            log.warning("worker %s died during group %s: %s", worker.process.pid, group_id, reason)
            self._sink.group_done(group_id, reason, cancelled)


def _start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), or None if there is none: with the
    pid, it names one process, never a later one that reuses the number."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def write_pidfile(path: Path, pids: list[int], *, server: int | None = None) -> None:
    """List these processes (pid and start time) in `path` as workers of `server` (this
    process unless given), replacing what it held."""
    owner = os.getpid() if server is None else server
    lines = [f"server {owner} {_start_time(owner)}"]
    lines += [f"{pid} {_start_time(pid)}" for pid in pids if _start_time(pid) is not None]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{line}\n" for line in lines))
    tmp.replace(path)


def reap_leftovers(path: Path) -> int:
    """Kill the processes a dead server listed in `path` that still run; how many.

    Nothing is killed while the server that wrote the list lives (another server on the same
    store, say): its workers are its own, and die with it.
    """
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    killed = 0
    for line in lines:
        fields = line.split()
        if len(fields) == 3 and fields[0] == "server":
            owner = int(fields[1]) if fields[1].isdigit() else -1
            if owner != os.getpid() and owner > 0 and _start_time(owner) == fields[2]:
                return 0
            continue
        try:
            pid_text, started = fields
            pid = int(pid_text)
        except ValueError:
            continue
        if pid == os.getpid() or _start_time(pid) != started:
            continue  # gone, or the number now names another process
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    path.unlink(missing_ok=True)
    return killed
