"""Settings every test process shares, applied before any test module is imported."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import reglab
import torch

# A Ray runtime started by a test serves this machine only: keep it on loopback. On Linux Ray
# otherwise binds to the machine's network address; this switch makes it use 127.0.0.1.
# (Subprocesses that play a multi-node cluster get a clean environment of their own.)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

# The suite tests this checkout's code: a virtual environment whose editable install points at
# another clone (one made to try something, since deleted or behind) would otherwise pass or
# fail on that clone's code, with errors that name modules this tree has.
_HERE = Path(__file__).resolve().parents[1] / "backend" / "reglab"
if Path(reglab.__file__).resolve().parent != _HERE:
    raise pytest.UsageError(
        f"the tests import reglab from {Path(reglab.__file__).parent}, not from this checkout "
        f"({_HERE}): run `pip install -e .` here (or `make install` in a fresh virtual "
        "environment), or set PYTHONPATH=backend."
    )


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Train on one thread, as workers do: on a busy 2-core machine, two threads spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
