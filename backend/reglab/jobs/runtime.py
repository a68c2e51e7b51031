"""The running service's parts (store, hub, journal, executor, pump, scheduler), wired in one
order."""

from __future__ import annotations

import asyncio
import logging

from reglab.config import Settings
from reglab.jobs.executor import Executor
from reglab.jobs.executors import make_executor
from reglab.jobs.pump import Pump
from reglab.jobs.scheduler import Scheduler
from reglab.journal import Journal
from reglab.live import Frame, Hub
from reglab.store.repo import Store

log = logging.getLogger(__name__)


class Runtime:
    """Everything behind the API; `start()` on the server's loop, `stop()` when it ends."""

    def __init__(self, settings: Settings, executor: Executor | None = None) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self.hub: Hub[Frame] = Hub(queue_size=settings.live_queue_size)
        self.journal = Journal(self.store, self.hub, share_runs=settings.share_runs)
        self.executor = executor if executor is not None else make_executor(settings)
        self.scheduler = Scheduler(
            store=self.store, recorder=self.journal, executor=self.executor, settings=settings
        )
        # What of a group's events to log is the scheduler's to say (a retrained run's epochs
        # were seen already; a preempted group's stop is a pause); the journal asks it.
        self.journal.policy = self.scheduler.loggable
        self.pump = Pump(self.journal, self.scheduler.on_group_done)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.hub.bind(loop)
        self.pump.start()
        self.executor.start(self.pump)
        interrupted = self.scheduler.recover()
        log.info(
            "reglab started: %s executor, %d slots, %d runs interrupted by the last stop",
            self.settings.executor,
            self.executor.slots,
            interrupted,
        )

    def stop(self) -> None:
        self.scheduler.stop()
        self.executor.shutdown()
        self.pump.stop()
        self.scheduler.interrupt_in_flight()
        self.store.close()
