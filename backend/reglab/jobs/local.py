"""The embedded executor: a warm pool of spawned worker processes, one group per worker at a time.

Each worker imports torch and the engine once at start (a cold start costs seconds here) and runs
with one torch thread, so N workers use N cores without fighting. A worker sends events back on
its own pipe; one reader thread in the API process waits on every pipe and every process sentinel
at once, so a dead worker's last events are always delivered before its group is reported done.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from reglab.jobs.executor import EventSink, Executor
from reglab.training.plan import Group

log = logging.getLogger(__name__)
_CTX = mp.get_context("spawn")


def _worker_main(
    results: Connection, tasks: Any, cancels: Any, generation: Synchronized[int]
) -> None:
    """A worker's life: warm up, then train one group after another until told to stop."""
    import torch

    torch.set_num_threads(1)
    # The first torch.optim optimizer pulls in torch._dynamo (seconds): pay it before work comes.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    from reglab.training.loop import train_group

    _warm_up(train_group)
    results.send(("ready", None, None))
    cancelled: set[int] = set()
    seen = 0

    def should_stop(run_id: int) -> bool:
        nonlocal seen
        # Called every step for every member: a shared counter read is far cheaper than a queue.
        if generation.value != seen:
            seen = generation.value
            while not cancels.empty():
                cancelled.update(cancels.get())
        return run_id in cancelled

    while True:
        task = tasks.get()
        if task is None:
            return
        group_id, group = task
        error: str | None = None
        try:
            for event in train_group(group, should_stop):
                results.send(("event", group_id, event))
        except Exception as exc:  # any failure of training fails the group, not the worker
            log.exception("group %s failed", group_id)
            error = f"{type(exc).__name__}: {exc}"
        results.send(("done", group_id, error))


def _warm_up(train_group: Any) -> None:
    """Train one tiny run and throw it away: the first real epoch then comes without delay."""
    from reglab.spec import RunSpec
    from reglab.training.plan import Member

    spec = RunSpec.model_validate(
        {"data": {"n_train": 20}, "model": {"hidden": [4]}, "train": {"epochs": 1}}
    )
    try:
        for _ in train_group(Group((Member(-1, "warm-up", spec),))):
            pass
    except Exception:  # a broken engine shows itself on the first real group, with its reason
        log.exception("warm-up run failed")


@dataclass
class _Worker:
    process: BaseProcess
    results: Connection
    tasks: Any
    cancels: Any
    generation: Synchronized[int]
    ready: bool = False
    group_id: str | None = None
    run_ids: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    kill_reason: str | None = None


class LocalExecutor(Executor):
    """`workers` warm processes on this machine; see executor.py for the contract."""

    def __init__(self, *, workers: int, cancel_grace_s: float = 3.0) -> None:
        self._size = workers
        self._grace = cancel_grace_s
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
        with self._lock:
            self._workers = [self._spawn() for _ in range(self._size)]
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
            worker.tasks.put((group_id, group))

    def cancel(self, run_ids: list[int]) -> None:
        wanted = set(run_ids)
        with self._lock:
            for worker in self._workers:
                hit = worker.run_ids & wanted
                if not hit or worker.group_id is None:
                    continue
                worker.cancels.put(sorted(hit))
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

    # -- inside ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        receive, send = _CTX.Pipe(duplex=False)
        tasks, cancels = _CTX.SimpleQueue(), _CTX.SimpleQueue()
        generation: Synchronized[int] = _CTX.Value("q", 0)
        process = _CTX.Process(
            target=_worker_main,
            args=(send, tasks, cancels, generation),
            name="reglab-worker",
            daemon=True,
        )
        process.start()
        send.close()  # the child holds the only sending end: EOF means it is gone
        return _Worker(process, receive, tasks, cancels, generation)

    def _kill_if_stuck(self, worker: _Worker, group_id: str) -> None:
        with self._lock:
            if worker.group_id != group_id or not worker.process.is_alive():
                return
            worker.kill_reason = (
                f"cancelled; the worker did not stop within {self._grace:g} s and was replaced"
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
        elif kind == "event" and group_id is not None:
            self._sink.event(group_id, payload)
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
            # A worker that died before it was ready would die again: replacing it would spin.
            if not self._stopping and worker.ready:
                self._workers.append(self._spawn())
            elif not worker.ready:
                log.error("a worker died while starting (exit code %s); see its log", code)
        worker.results.close()
        if group_id is not None and not self._stopping and self._sink is not None:
            if reason is None:
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                reason = f"the worker process died ({how}) while training this run"
            log.warning("worker %s died during group %s: %s", worker.process.pid, group_id, reason)
            self._sink.group_done(group_id, reason)
