"""Settings every test process shares, applied before any test module is imported."""

import os
from collections.abc import Iterator

import pytest
import torch

# A Ray runtime started by a test serves this machine only: keep it on loopback. On Linux Ray
# otherwise binds to the machine's network address; this switch makes it use 127.0.0.1.
# (Subprocesses that play a multi-node cluster get a clean environment of their own.)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Train on one thread, as workers do: on a busy 2-core machine, two threads spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
