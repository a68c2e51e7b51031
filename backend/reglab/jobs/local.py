"""The embedded executor: a warm pool of spawned worker processes, one group per worker at a time.

Each worker (`worker.py`) imports torch and the engine once at start (a cold start costs seconds
here) and runs with one torch thread, so N workers use N cores without fighting. A worker sends
typed messages (`messages.py`) back on its own pipe; one reader thread in the API process waits on
every pipe and every process sentinel at once, so a dead worker's last events are always
delivered before its group is reported done. The pool lists its workers in a pid file
(`pidfile.py`) so that a server started after a crash kills the ones a dead server left.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from reglab.jobs.executor import EventSink, Executor
from reglab.jobs.messages import Done, Events, Ready, WorkerMessage
from reglab.jobs.pidfile import reap_leftovers, write_pidfile
from reglab.jobs.worker import run_worker
from reglab.training.plan import Group

log = logging.getLogger(__name__)
_CTX = mp.get_context("spawn")


@dataclass
class _Worker:
    """One worker process as the pool sees it: its pipes, and the group it trains now."""

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
        self._memory_cap = memory_cap_bytes  # one group's allowance; see worker._cap_memory
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
            target=run_worker,
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

    def _handle(self, worker: _Worker, message: WorkerMessage) -> None:
        assert self._sink is not None
        match message:
            case Ready():
                with self._lock:
                    worker.ready = True
            case Events(group_id, events):
                for event in events:
                    self._sink.event(group_id, event)
            case Done(group_id, failure):
                with self._lock:
                    worker.group_id, worker.run_ids, worker.cancelled = None, set(), set()
                self._sink.group_done(group_id, None if failure is None else failure.sentence())

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
