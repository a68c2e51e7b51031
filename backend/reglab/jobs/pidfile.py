"""The pid file: where a server lists its local workers, so that the next server can reap them.

Each line names one process by its pid and its start time (clock ticks since boot), so a number
the kernel has since given to another process is never mistaken for a worker; the first line
names the server that wrote the list, whose workers are its own while it lives.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url


def worker_pidfile(database_url: str) -> Path:
    """Where a server lists its local workers: beside its SQLite file, else in the temp dir
    under a name drawn from the database URL (one per store, as one server serves a store)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database) + ".workers")
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"reglab-{digest}.workers"


def _start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), or None if there is none: with the
    pid, it names one process, never a later one that reuses the number."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def write_pidfile(path: Path, pids: list[int], *, server: int | None = None) -> None:
    """List these processes (pid and start time) in `path` as workers of `server` (this
    process unless given), replacing what it held."""
    owner = os.getpid() if server is None else server
    lines = [f"server {owner} {_start_time(owner)}"]
    lines += [f"{pid} {_start_time(pid)}" for pid in pids if _start_time(pid) is not None]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{line}\n" for line in lines))
    tmp.replace(path)


def _read(path: Path) -> tuple[tuple[int, str] | None, list[tuple[int, str]]]:
    """The server line and the worker lines of `path` as (pid, start time); unreadable lines
    are skipped (a list cut short by a crash still names the workers before the cut)."""
    server: tuple[int, str] | None = None
    workers: list[tuple[int, str]] = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "server":
            server = (int(fields[1]) if fields[1].isdigit() else -1, fields[2])
        elif len(fields) == 2 and fields[0].isdigit():
            workers.append((int(fields[0]), fields[1]))
    return server, workers


def listed_workers(path: Path) -> list[int]:
    """The pids `path` lists as workers (none if there is no list)."""
    try:
        return [pid for pid, _ in _read(path)[1]]
    except OSError:
        return []


def reap_leftovers(path: Path) -> int:
    """Kill the processes a dead server listed in `path` that still run; how many.

    Nothing is killed while the server that wrote the list lives (another server on the same
    store, say): its workers are its own, and die with it.
    """
    try:
        server, workers = _read(path)
    except OSError:
        return 0
    if server is not None:
        owner, started = server
        if owner != os.getpid() and owner > 0 and _start_time(owner) == started:
            return 0
    killed = 0
    for pid, started in workers:
        if pid == os.getpid() or _start_time(pid) != started:
            continue  # gone, or the number now names another process
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    path.unlink(missing_ok=True)
    return killed
