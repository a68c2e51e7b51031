"""Run every bench/*.py module that exposes main(), the engine first; skip what cannot load."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

FIRST = "engine"


def _names() -> list[str]:
    here = Path(__file__).parent
    found = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    return sorted(found, key=lambda name: name != FIRST)


def main() -> int:
    failed = 0
    for name in _names():
        try:
            module = importlib.import_module(f"bench.{name}")
        except ImportError as exc:  # an optional bench whose dependency is absent
            print(f"== bench.{name}: skipped ({exc})")
            continue
        entry = getattr(module, "main", None)
        if not callable(entry):
            continue
        print(f"== bench.{name}", flush=True)
        started = time.perf_counter()
        try:
            entry()
        except Exception as exc:  # one broken bench must not hide the others' numbers
            failed += 1
            print(f"== bench.{name}: FAILED: {exc!r}")
            continue
        print(f"== bench.{name}: done in {time.perf_counter() - started:.1f} s\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
