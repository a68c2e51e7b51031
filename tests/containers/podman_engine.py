"""Podman and podman-compose as the deployment suite drives them, and docs/classroom.md's commands.

Every command the suite gives the container engine is a line of the guide's shell blocks, found
there verbatim: `docker compose ...` runs as `podman-compose --in-pod false ...` (without
`--build`, since the images were built offline), the rest as written. A project's containers,
networks and volumes carry its name, and `Project.remove` takes away everything that does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "classroom.md"
PODMAN_COMPOSE = Path(sys.executable).parent / "podman-compose"
PROJECT_LABEL = "io.podman.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
# What the host allows: runc (crun refuses hybrid cgroups) and ulimits no higher than its own.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
"""


def log(message: str) -> None:
    """A line of the suite's log (the Makefile runs pytest with -s, so it shows as it happens)."""
    print(f"[test-deploy {time.strftime('%H:%M:%S')}] {message}", flush=True)


def guide_blocks() -> list[list[str]]:
    """The guide's ```sh blocks, each a list of commands (continuation lines joined)."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    return [re.sub(r"\\\n\s*", "", block).strip().splitlines() for block in blocks]


def _bare(line: str) -> str:
    """A command without its trailing `# comment`."""
    return shlex.join(shlex.split(line, comments=True))


def guide_command(command: str) -> str:
    """`command` as the guide writes it; fails unless a shell block of the guide has it."""
    for block in guide_blocks():
        for line in block:
            if _bare(line) == _bare(command):
                return _bare(line)
    raise AssertionError(f"docs/classroom.md has no command {command!r}")


def guide_block_with(first: str) -> list[str]:
    """The guide's shell block whose first command starts with `first`."""
    for block in guide_blocks():
        if block and block[0].startswith(first):
            return block
    raise AssertionError(f"docs/classroom.md has no block starting with {first!r}")


def containers_env(workdir: Path) -> dict[str, str]:
    """This environment plus a containers.conf with the runtime and ulimits this host needs."""
    conf = workdir / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def run(
    argv: list[str] | str,
    env: dict[str, str],
    cwd: Path = ROOT,
    timeout: float = 300,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """A command (argv, or a shell line) with its output kept; a failure shows that output."""
    shell = isinstance(argv, str)
    done = subprocess.run(
        argv,
        shell=shell,
        executable="/bin/bash" if shell else None,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{argv!r} exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}"
            f"\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done


def podman(*args: str, env: dict[str, str], check: bool = True, timeout: float = 120) -> str:
    return run(["podman", *args], env=env, check=check, timeout=timeout).stdout.strip()


def image_size(image: str, env: dict[str, str]) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", image, env=env))


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Project:
    """A copy of docker-compose.yml and .env.example in its own directory, run under one name."""

    def __init__(self, workdir: Path, name: str, env: dict[str, str]) -> None:
        self.dir = workdir / name
        self.dir.mkdir()
        shutil.copy(ROOT / "docker-compose.yml", self.dir / "docker-compose.yml")
        shutil.copy(ROOT / ".env.example", self.dir / ".env.example")
        self.name = name
        self.env = {**env, "COMPOSE_PROJECT_NAME": name}
        self.clients: list[Any] = []  # closed by remove()

    def set_env(self, **values: str) -> None:
        """Lines added to (or replacing those of) the project's .env, as a teacher edits it."""
        path = self.dir / ".env"
        lines = path.read_text().splitlines() if path.exists() else []
        kept = [line for line in lines if line.split("=", 1)[0] not in values]
        path.write_text("\n".join([*kept, *(f"{k}={v}" for k, v in values.items())]) + "\n")

    def guide(self, command: str, timeout: float = 600, check: bool = True) -> str:
        """Run one of the guide's commands in this project; returns what it printed."""
        line = guide_command(command)
        argv = shlex.split(line)
        log(f"$ {line}")
        if argv[:2] == ["docker", "compose"]:
            rest = [a for a in argv[2:] if a != "--build"]
            argv = [str(PODMAN_COMPOSE), "--in-pod", "false", *rest]
        started = time.monotonic()
        done = run(argv, env=self.env, cwd=self.dir, timeout=timeout, check=check)
        log(f"  ({time.monotonic() - started:.1f} s, exit {done.returncode})")
        return done.stdout + done.stderr

    def containers(self, service: str | None = None, all_states: bool = True) -> list[str]:
        filters = ["--filter", f"label={PROJECT_LABEL}={self.name}"]
        if service:
            filters += ["--filter", f"label={SERVICE_LABEL}={service}"]
        flag = ["-a"] if all_states else []
        out = podman("ps", *flag, *filters, "--format", "{{.Names}}", env=self.env)
        return sorted(out.split())

    def one(self, service: str) -> str:
        found = self.containers(service)
        assert len(found) == 1, f"{service}: {found}"
        return found[0]

    def inspect(self, container: str) -> dict[str, Any]:
        data = json.loads(podman("inspect", container, env=self.env))
        result: dict[str, Any] = data[0]
        return result

    def healthy(self, container: str, timeout: float = 180) -> None:
        """Runs the container's own health check until it passes (podman has no systemd timer
        here to run it), then reads the status the engine recorded."""

        def passes() -> bool:
            check = run(["podman", "healthcheck", "run", container], env=self.env, check=False)
            return check.returncode == 0

        started = time.monotonic()
        wait_for(passes, timeout, f"{container} to pass its health check", every=2)
        status = self.inspect(container)["State"]["Health"]["Status"]
        assert status == "healthy", status
        log(f"{container}: healthy after {time.monotonic() - started:.0f} s")

    def processes(self, container: str) -> list[tuple[str, str]]:
        """(user, command line) of every process in the container."""
        out = podman("top", container, "user", "args", env=self.env, check=False)
        rows = []
        for line in out.splitlines()[1:]:
            user, _, args = line.strip().partition(" ")
            rows.append((user, args.strip()))
        return rows

    def remove(self) -> None:
        """Everything of this project: containers (any state) with their anonymous volumes (the
        image's VOLUME in the Ray containers), networks, named volumes; API clients closed."""
        for client in self.clients:
            client.close()
        label = f"label={PROJECT_LABEL}={self.name}"
        containers = podman("ps", "-aq", "--filter", label, env=self.env, check=False).split()
        anonymous = set()
        for container in containers:
            for mount in self.inspect(container).get("Mounts", []):
                if mount.get("Type") == "volume" and len(mount.get("Name", "")) == 64:
                    anonymous.add(mount["Name"])
        if containers:
            podman("rm", "-f", "-v", *containers, env=self.env, check=False, timeout=180)
        if anonymous:  # `rm -v` has been seen to leave one behind
            podman("volume", "rm", "-f", *anonymous, env=self.env, check=False)
        run(
            [str(PODMAN_COMPOSE), "--in-pod", "false", "--profile", "cluster", "down", "-v"],
            env=self.env,
            cwd=self.dir,
            timeout=180,
            check=False,
        )
        listings = {
            "container": ["ps", "-aq"],
            "volume": ["volume", "ls", "-q"],
            "network": ["network", "ls", "-q"],
        }
        for kind, listing in listings.items():  # what `down` left, e.g. after a failed `up`
            for item in podman(*listing, "--filter", label, env=self.env, check=False).split():
                podman(kind, "rm", "-f", item, env=self.env, check=False, timeout=120)
        for kind, listing in listings.items():
            left = podman(*listing, "--filter", label, env=self.env, check=False)
            assert not left.strip(), f"{self.name}: {kind}s left behind: {left}"
        volumes = set(podman("volume", "ls", "-q", env=self.env, check=False).split())
        assert not anonymous & volumes, f"{self.name}: anonymous volumes left behind"
        log(f"{self.name}: containers, networks and volumes removed")
