"""The Ray executor: each training group runs as a Ray streaming-generator task on a cluster.

The task trains as the local pool does and yields its events in the bursts training says them
in (`train_bursts`: an epoch's metrics as one Ray object, not one per member); a thread per
group in the API process reads them back in order and hands them to the sink, so the
scheduler's event pump cannot tell the two executors apart. Stopping one member needs a flag
that the running task can see, so cancellations go to a small `_CancelBoard` actor that each
task polls; a group whose members are all cancelled and that does not stop within the grace
period is cancelled by Ray with force. Tasks are never retried: a retry would replay epochs the
store already has, so a lost worker or node fails its runs with the reason instead.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ray
import ray.exceptions
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from reglab.events import Event
from reglab.jobs import warmup
from reglab.jobs.executor import EventSink, Executor, ExecutorUnavailable
from reglab.training.plan import Group

if TYPE_CHECKING:
    from reglab.config import Settings

log = logging.getLogger(__name__)

# How often a running task asks the board which of its members were cancelled (seconds).
CANCEL_POLL_S = 0.2


@ray.remote(num_cpus=0)
class _CancelBoard:
    """The run ids asked to stop, readable from every node of the cluster."""

    def __init__(self) -> None:
        self._cancelled: set[int] = set()

    def cancel(self, run_ids: list[int]) -> None:
        self._cancelled.update(run_ids)

    def cancelled_among(self, run_ids: list[int]) -> list[int]:
        return [run_id for run_id in run_ids if run_id in self._cancelled]

    def forget(self, run_ids: list[int]) -> None:
        self._cancelled.difference_update(run_ids)


class _StopFlags:
    """Inside a task: `should_stop(run_id)` from the board, refreshed by a background thread."""

    def __init__(self, board: Any, run_ids: list[int], poll_s: float) -> None:
        self._board = board
        self._run_ids = run_ids
        self._poll_s = poll_s
        self._stopped: frozenset[int] = frozenset()
        self._done = threading.Event()
        self._refresh()  # a cancel that came before the task started counts from step one
        self._thread = threading.Thread(target=self._poll, name="reglab-cancel-poll", daemon=True)
        self._thread.start()

    def should_stop(self, run_id: int) -> bool:
        return run_id in self._stopped

    def close(self) -> None:
        self._done.set()

    def _refresh(self) -> None:
        try:
            ids = ray.get(self._board.cancelled_among.remote(self._run_ids), timeout=10)
        except ray.exceptions.RayError as exc:
            # Keep training on the flags we had: a lost board must not fail healthy runs.
            log.warning("cannot read cancellations (%s); keeping the last known ones", exc)
            return
        self._stopped = frozenset(ids)

    def _poll(self) -> None:
        while not self._done.wait(self._poll_s):
            self._refresh()


@ray.remote(num_returns="streaming", num_cpus=1, max_retries=0)
def _train_group_task(group: Group, board: Any, poll_s: float) -> Iterator[list[Event]]:
    """Train one group on a Ray worker, yielding the bursts of events `train_bursts` yields."""
    import torch

    from reglab.training.loop import train_bursts

    torch.set_num_threads(1)  # one CPU per task, as Ray accounts it; more threads only contend
    flags = _StopFlags(board, group.run_ids, poll_s)
    try:
        yield from train_bursts(group, flags.should_stop)
    finally:
        flags.close()


@ray.remote(num_cpus=1, max_retries=0)
def _warm_up() -> None:
    """Pay a worker's first-use costs before it takes a group, as the local pool's workers do."""
    warmup.warm_up()


@dataclass
class _InFlight:
    """Driver-side state of one submitted group."""

    group: Group
    stream: Any  # ray.ObjectRefGenerator
    cancelled: set[int] = field(default_factory=set)
    kill_timer: threading.Timer | None = None
    killed: bool = False


class RayExecutor(Executor):
    """Training groups as Ray tasks, with events streamed back to the API process."""

    def __init__(
        self,
        *,
        address: str | None,
        slots: int,
        cancel_grace_s: float,
        warm_up: bool = True,
        cancel_poll_s: float = CANCEL_POLL_S,
    ) -> None:
        self._address = address
        self._slots = slots
        self._grace_s = cancel_grace_s
        self._warm_up = warm_up
        self._poll_s = cancel_poll_s
        self._lock = threading.Lock()
        self._sink: EventSink | None = None
        self._board: Any = None
        self._owns_ray = False
        self._closed = False
        self._groups: dict[str, _InFlight] = {}
        self._readers: dict[str, threading.Thread] = {}

    @property
    def slots(self) -> int:
        return self._slots

    def start(self, sink: EventSink) -> None:
        if not ray.is_initialized():
            _check_reachable(self._address)
            # ray.init makes SIGTERM call sys.exit; the server's own handler (uvicorn's graceful
            # shutdown) must stay, or `docker stop` ends it mid-write with a traceback.
            main = threading.current_thread() is threading.main_thread()
            on_sigterm = signal.getsignal(signal.SIGTERM) if main else None
            try:
                # An address joins a running cluster. Without one, "local" starts a Ray runtime
                # here: None would attach to whatever cluster this machine started last.
                ray.init(
                    address=self._address or "local", include_dashboard=False, log_to_driver=False
                )
            except Exception as exc:
                where = self._address or "a new local runtime"
                raise ExecutorUnavailable(
                    f"cannot connect to Ray at {where} ({type(exc).__name__}: {exc}). "
                    "Check REGLAB_RAY_ADDRESS, or set REGLAB_EXECUTOR=local."
                ) from exc
            finally:
                if on_sigterm is not None:
                    signal.signal(signal.SIGTERM, on_sigterm)
            self._owns_ray = True
        # The board lives on this node: it must last exactly as long as this server does.
        here = ray.get_runtime_context().get_node_id()
        self._board = _CancelBoard.options(  # type: ignore[attr-defined]
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False)
        ).remote()
        self._sink = sink
        if self._warm_up:
            cpus = int(ray.cluster_resources().get("CPU", 0))  # type: ignore[no-untyped-call]
            for _ in range(min(self._slots, cpus)):
                _warm_up.remote()

    def submit(self, group_id: str, group: Group) -> None:
        with self._lock:
            if self._closed or self._sink is None:
                raise RuntimeError("the Ray executor is not running; start() it first.")
            stream = _train_group_task.remote(group, self._board, self._poll_s)
            self._groups[group_id] = _InFlight(group=group, stream=stream)
            reader = threading.Thread(
                target=self._read, args=(group_id, stream), name=f"reglab-ray-{group_id}"
            )
            self._readers[group_id] = reader
        reader.start()

    def cancel(self, run_ids: list[int]) -> None:
        wanted = set(run_ids)
        with self._lock:
            if self._closed or self._board is None:
                return
            self._board.cancel.remote(sorted(wanted))
            for group_id, flight in self._groups.items():
                flight.cancelled |= wanted & set(flight.group.run_ids)
                everyone = flight.cancelled == set(flight.group.run_ids)
                if everyone and flight.kill_timer is None:
                    flight.kill_timer = threading.Timer(self._grace_s, self._kill, args=(group_id,))
                    flight.kill_timer.daemon = True
                    flight.kill_timer.start()

    def shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True  # from here on no reader calls the sink
            flights = list(self._groups.values())
            readers = list(self._readers.values())
        for flight in flights:
            if flight.kill_timer is not None:
                flight.kill_timer.cancel()
            ray.cancel(flight.stream, force=True)
        for reader in readers:
            reader.join(timeout=5)
        if self._owns_ray:
            ray.shutdown()
        elif self._board is not None:
            ray.kill(self._board)  # a runtime we only borrowed keeps no actor of ours

    def _kill(self, group_id: str) -> None:
        with self._lock:
            flight = self._groups.get(group_id)
            if flight is None or self._closed:
                return
            flight.killed = True
        log.warning(
            "group %s ignored its cancel for %.1f s; cancelling its task", group_id, self._grace_s
        )
        ray.cancel(flight.stream, force=True)

    def _read(self, group_id: str, stream: Any) -> None:
        """Hand each event of one group to the sink, in order, then say how the group ended."""
        error: str | None = None
        try:
            for ref in stream:
                burst = ray.get(ref)
                with self._lock:
                    if self._closed:
                        return
                    for event in burst:
                        self._deliver(group_id, event)
        except Exception as exc:
            error = self._reason(group_id, exc)
        with self._lock:
            flight = self._groups.pop(group_id, None)
            self._readers.pop(group_id, None)
            if flight is not None and flight.kill_timer is not None:
                flight.kill_timer.cancel()
            if self._board is not None and flight is not None:
                self._board.forget.remote(flight.group.run_ids)
            if not self._closed:
                killed = flight is not None and flight.killed
                self._deliver(group_id, None, done=True, error=error, cancelled=killed)

    def _deliver(
        self,
        group_id: str,
        event: Event | None,
        *,
        done: bool = False,
        error: str | None = None,
        cancelled: bool = False,
    ) -> None:
        # Called with the lock held, so shutdown() cannot return while a sink call is under way.
        assert self._sink is not None
        try:
            if done:
                self._sink.group_done(group_id, error, cancelled)
            elif event is not None:
                self._sink.event(group_id, event)
        except Exception:
            log.exception("the event sink raised on group %s; going on", group_id)

    def _reason(self, group_id: str, exc: BaseException) -> str:
        """One sentence a student can read about why the group's task ended early."""
        with self._lock:
            flight = self._groups.get(group_id)
            killed = flight is not None and flight.killed
        if killed:
            grace = f"{self._grace_s:g} s"
            return f"the group did not stop within {grace} and its Ray task was stopped"
        if isinstance(exc, ray.exceptions.RayTaskError):
            cause = exc.cause
            if isinstance(cause, ray.exceptions.TaskCancelledError):
                return "the Ray task was cancelled"
            return f"{type(cause).__name__}: {cause}"
        if isinstance(exc, ray.exceptions.TaskCancelledError):
            return "the Ray task was cancelled"
        if isinstance(exc, ray.exceptions.NodeDiedError | ray.exceptions.LocalRayletDiedError):
            return "the Ray node training this run was lost"
        if isinstance(exc, ray.exceptions.WorkerCrashedError):
            return "the Ray worker died while training this run (its process or its node was lost)"
        if isinstance(exc, ray.exceptions.OutOfMemoryError):
            return "the Ray node ran out of memory and stopped this run"
        if isinstance(exc, ray.exceptions.RayError):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return f"Ray failed: {type(exc).__name__} {first}".strip()
        return f"{type(exc).__name__}: {exc}"


def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail at start-up, not minutes later: ray.init retries an unreachable GCS for a long time."""
    if not address or address in {"auto", "local"}:
        return
    if address.startswith("ray://"):
        # Ray Client cannot stream a generator's results, which is how events come back.
        raise ExecutorUnavailable(
            f"REGLAB_RAY_ADDRESS={address!r} is a Ray Client address, which cannot stream "
            "training events. Give the head's GCS address (e.g. ray-head:6379) from a machine "
            "that has joined the cluster with `ray start --address ...`."
        )
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorUnavailable(
            f"REGLAB_RAY_ADDRESS={address!r} is not host:port (e.g. ray-head:6379)."
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ExecutorUnavailable(
            f"no Ray cluster answers at {address} ({exc}). Start the Ray head (docker compose "
            "--profile cluster up -d), fix REGLAB_RAY_ADDRESS, or set REGLAB_EXECUTOR=local."
        ) from exc


def make_ray_executor(settings: Settings) -> RayExecutor:
    """The Ray executor as `Settings` configure it (the factory `make_executor` looks for)."""
    return RayExecutor(
        address=settings.ray_address or None,
        slots=settings.ray_slots,
        cancel_grace_s=settings.cancel_grace_s,
    )
