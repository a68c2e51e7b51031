"""Settings every test process shares, applied before any test module is imported."""

import os

# A Ray runtime started by a test serves this machine only: keep it on loopback. On Linux Ray
# otherwise binds to the machine's network address; this switch makes it use 127.0.0.1.
# (Subprocesses that play a multi-node cluster get a clean environment of their own.)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
