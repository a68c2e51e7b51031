"""The deployment suite: real images and containers. Only `make test-deploy` runs it (it installs
podman and builds two images, ~20 minutes from nothing); a plain `pytest` skips the directory."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

if os.environ.get("REGLAB_CONTAINER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

sys.path.insert(0, str(Path(__file__).parent))

from podman_engine import (
    ROOT,
    containers_env,
    guide_block_with,
    image_size,
    log,
    run,
)


def _wheels_dir() -> str:
    """pip's find-links directory on this machine (where the CPU torch wheel lies), or WHEELS."""
    if os.environ.get("WHEELS"):
        return os.environ["WHEELS"]
    found = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    for line in found.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".find-links"):
            return value.strip().strip("'\"").split()[0]
    parser = configparser.ConfigParser()
    parser.read(["/etc/pip.conf"])
    return parser.get("global", "find-links", fallback="/opt/wheels").split()[0]


def _ca_bundle() -> str:
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise AssertionError("no CA bundle at /etc/ssl/certs/ca-certificates.crt (set SSL_CERT_FILE)")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="session")
def engine_env(workdir: Path) -> dict[str, str]:
    env = containers_env(workdir)
    version = run(["podman", "--version"], env=env).stdout.strip()
    log(f"{version}, runtime runc, nofile/nproc 4096, CONTAINERS_CONF={env['CONTAINERS_CONF']}")
    return env


@pytest.fixture(scope="session")
def images(engine_env: dict[str, str]) -> dict[str, int]:
    """Step 1: the guide's offline build, command by command, timed; the images' sizes."""
    wheels = _wheels_dir()
    env = {**engine_env, "WHEELS": wheels, "CA_BUNDLE": _ca_bundle()}
    assert list(Path(wheels).glob("torch-2.13.0+cpu-cp311-*.whl")), (
        f"no CPU torch wheel in {wheels}"
    )
    block = guide_block_with("export WHEELS=")
    prelude = block[0].split("#")[0]
    for command in block[1:]:
        log(f"$ {command}")
        started = time.monotonic()
        run(
            f"{prelude}; export WHEELS={wheels} CA_BUNDLE={env['CA_BUNDLE']}; {command}",
            env=env,
            cwd=ROOT,
            timeout=1500,
        )
        log(f"  took {time.monotonic() - started:.0f} s")
    sizes = {}
    for image in (
        "localhost/reglab-base:bookworm",
        "localhost/reglab:local",
        "localhost/reglab:ray",
    ):
        sizes[image] = image_size(image, engine_env)
        log(f"image {image}: {sizes[image] / 1e6:.0f} MB")
    return sizes
