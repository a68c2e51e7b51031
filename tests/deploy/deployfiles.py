"""Reading the deployment files as Docker would: Dockerfile instructions, compose services."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
ENTRYPOINT_SCRIPT = ROOT / "docker" / "entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"
BIN = Path(sys.executable).parent  # where the venv puts `reglab` and `ray`, as /opt/venv/bin


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD, ENTRYPOINT or HEALTHCHECK CMD (Docker runs it with no shell)."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text[text.index("CMD") + len("CMD") :]
        value = json.loads(text.strip())
        assert isinstance(value, list), f"{self.keyword} is not in exec form: {self.args}"
        return [str(v) for v in value]


def _instructions() -> list[Instruction]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            found.append(Instruction(keyword.upper(), args.strip()))
    return found


def dockerfile_global_args() -> dict[str, str]:
    """The ARGs before the first FROM, which FROM lines may use: name -> default."""
    found = {}
    for instruction in _instructions():
        if instruction.keyword == "FROM":
            break
        assert instruction.keyword == "ARG", "only ARG may come before the first FROM"
        name, _, default = instruction.args.partition("=")
        found[name] = default
    return found


def dockerfile_stages() -> list[list[Instruction]]:
    """The instructions of each build stage, in order (a stage starts at FROM)."""
    stages: list[list[Instruction]] = []
    for instruction in _instructions():
        if instruction.keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    assert stages, "a Dockerfile has a FROM"
    return stages


def stage_arg(stage: list[Instruction], name: str) -> str:
    """The default a stage's `ARG name=default` gives."""
    for instruction in stage:
        if instruction.keyword == "ARG" and instruction.args.partition("=")[0] == name:
            return instruction.args.partition("=")[2]
    raise AssertionError(f"the stage declares no ARG {name}")


def last(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert found, f"the stage has no {keyword}"
    return found[-1]


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    result: dict[str, Any] = services[name]
    return result


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${VAR:-default}` with an empty .env: the default, or what `env` says."""
    env = env or {}
    return _INTERPOLATION.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


def environment(name: str) -> dict[str, str]:
    """A service's `environment:` as a mapping (compose allows a list of K=V too)."""
    env = service(name).get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_argv(name: str) -> list[str]:
    """A service's `command:` as argv (a string is split as compose splits it)."""
    command = service(name).get("command")
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(c) for c in command]


def image_env(**extra: str) -> dict[str, str]:
    """This environment minus any REGLAB_ or RAY_ setting, plus what the image sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGLAB_", "RAY_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1")
    env.update(RAY_USAGE_STATS_ENABLED="0", REGLAB_WORKERS="1", **extra)
    return env
