"""Asking for Ray fails at start-up with a sentence, never mid-run with a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time

import pytest
from reglab.jobs.executor import ExecutorUnavailable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens once the socket is closed


class _NoSink:
    def event(self, group_id: str, event: object) -> None:
        raise AssertionError("no event may arrive")

    def group_done(self, group_id: str, error: str | None, cancelled: bool = False) -> None:
        raise AssertionError("no group ran")


def test_unreachable_ray_address_is_refused_at_start_within_seconds() -> None:
    pytest.importorskip("ray")
    from reglab.jobs.ray import RayExecutor

    address = f"127.0.0.1:{_closed_port()}"
    executor = RayExecutor(address=address, slots=1, cancel_grace_s=1.0)
    began = time.monotonic()
    with pytest.raises(ExecutorUnavailable, match=f"no Ray cluster answers at {address}"):
        executor.start(_NoSink())
    assert time.monotonic() - began < 10


def test_ray_address_that_is_not_host_and_port_is_refused() -> None:
    pytest.importorskip("ray")
    from reglab.jobs.ray import RayExecutor

    executor = RayExecutor(address="ray-head", slots=1, cancel_grace_s=1.0)
    with pytest.raises(ExecutorUnavailable, match="is not host:port"):
        executor.start(_NoSink())


def test_ray_client_address_is_refused_because_it_cannot_stream_events() -> None:
    pytest.importorskip("ray")
    from reglab.jobs.ray import RayExecutor

    executor = RayExecutor(address="ray://ray-head:10001", slots=1, cancel_grace_s=1.0)
    with pytest.raises(ExecutorUnavailable, match="Ray Client address"):
        executor.start(_NoSink())


def test_asking_for_ray_without_the_extra_says_how_to_install_it() -> None:
    # A fresh interpreter in which `import ray` fails, as on a server without reglab[ray].
    script = textwrap.dedent(
        """
        import sys
        sys.modules["ray"] = None
        from reglab.config import Settings
        from reglab.jobs.executor import ExecutorUnavailable
        from reglab.jobs.executors import make_executor
        try:
            make_executor(Settings(executor="ray"))
        except ExecutorUnavailable as exc:
            print(exc)
        else:
            print("no error")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'reglab[ray]'" in result.stdout
    assert "REGLAB_EXECUTOR=local" in result.stdout
