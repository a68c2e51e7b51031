"""Helpers the test suites and benches share: free ports, polling, and the browser to drive."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

# Debian's chromium, started the way this machine allows (no sandbox as root, no network chatter).
CHROMIUM = os.environ.get("REGLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FINAL = {"completed", "stopped_early", "diverged", "cancelled", "failed", "interrupted"}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
