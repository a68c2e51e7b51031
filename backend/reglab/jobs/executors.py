"""Which executor a server runs: built from `Settings`, one floor above the interface.

`executor.py` is the contract and `local.py` / `ray.py` keep it; the factory lives here so the
contract imports neither implementation (they import it).
"""

from __future__ import annotations

import importlib

from reglab.config import Settings
from reglab.jobs.executor import Executor, ExecutorUnavailable
from reglab.jobs.pidfile import worker_pidfile


def make_executor(settings: Settings) -> Executor:
    """The executor `settings.executor` names, with a clear error when it cannot be built."""
    if settings.executor == "local":
        from reglab.jobs.local import LocalExecutor

        return LocalExecutor(
            workers=settings.workers,
            cancel_grace_s=settings.cancel_grace_s,
            memory_cap_bytes=int(settings.max_group_memory_gb * 1e9),
            pidfile=worker_pidfile(settings.database_url),
            nice=settings.worker_nice,
        )
    if settings.executor == "ray":
        try:
            module = importlib.import_module("reglab.jobs.ray")
        except ImportError as exc:
            raise ExecutorUnavailable(
                f"REGLAB_EXECUTOR=ray needs the Ray executor, which could not be imported ({exc}). "
                "Install it with `pip install 'reglab[ray]'` or set REGLAB_EXECUTOR=local."
            ) from exc
        factory = getattr(module, "make_ray_executor", None)
        if factory is None:
            raise ExecutorUnavailable(
                "reglab.jobs.ray has no make_ray_executor(settings); the Ray executor is missing."
            )
        executor: Executor = factory(settings)
        return executor
    raise ExecutorUnavailable(f"unknown executor {settings.executor!r}; use 'local' or 'ray'.")
