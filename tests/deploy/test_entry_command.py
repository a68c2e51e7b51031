"""The image's exact entry command, run outside a container: it serves the page and its health.

Docker cannot run here, so this is the container's ENTRYPOINT + CMD as the Dockerfile writes
them (only the port substituted, so tests can run side by side), in a working directory laid
out like the image's /app, with the image's health check run against it.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from deployfiles import ENTRYPOINT_SCRIPT, dockerfile_stages, image_env, last, service

from tests.support import end_process, free_port, wait_for

pytestmark = pytest.mark.slow


def container_argv(port: int) -> list[str]:
    """ENTRYPOINT + CMD of the final stage, the script at its repo path, the port substituted."""
    final = dockerfile_stages()[-1]
    entrypoint = last(final, "ENTRYPOINT").exec_form()
    assert entrypoint == ["reglab-entrypoint"]
    command = last(final, "CMD").exec_form()
    assert command[-2:] == ["--port", "8000"]
    return ["sh", str(ENTRYPOINT_SCRIPT), *command[:-1], str(port)]


@dataclass
class Container:
    process: subprocess.Popen[bytes]
    port: int
    app_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    app_dir = tmp_path_factory.mktemp("app")
    (app_dir / "data").mkdir()  # the volume's mount point, which the image creates
    port = free_port()
    log = (app_dir / "server.log").open("wb")
    process = subprocess.Popen(
        container_argv(port), cwd=app_dir, env=image_env(), stdout=log, stderr=subprocess.STDOUT
    )
    running = Container(process, port, app_dir)

    def healthy() -> bool:
        assert process.poll() is None, (app_dir / "server.log").read_text()
        try:
            return httpx.get(f"{running.url}/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, 90, "the entry command to serve /api/health")
        yield running
    finally:
        end_process(process)  # SIGTERM first, what `docker stop` sends
        log.close()


def test_entry_command_serves_the_dashboard_page(container: Container) -> None:
    page = httpx.get(f"{container.url}/", timeout=10)
    assert page.status_code == 200
    assert "<html" in page.text.lower()
    assert "reglab" in page.text.lower()


def test_entry_command_answers_health_with_the_local_pool(container: Container) -> None:
    health = httpx.get(f"{container.url}/api/health", timeout=10).json()
    assert health["status"] == "ok"
    assert health["executor"] == "local"


def test_image_health_checks_pass_against_the_running_server(container: Container) -> None:
    checks = {
        "Dockerfile": last(dockerfile_stages()[-1], "HEALTHCHECK").exec_form(),
        "compose": service("reglab")["healthcheck"]["test"][1:],
    }
    for origin, argv in checks.items():
        argv = [a.replace(":8000/", f":{container.port}/") for a in argv]
        result = subprocess.run(argv, env=image_env(), capture_output=True, timeout=30)
        assert result.returncode == 0, f"{origin} health check failed: {result.stderr!r}"


def test_image_health_check_fails_when_nothing_answers() -> None:
    argv = last(dockerfile_stages()[-1], "HEALTHCHECK").exec_form()
    argv = [a.replace(":8000/", f":{free_port()}/") for a in argv]
    result = subprocess.run(argv, env=image_env(), capture_output=True, timeout=30)
    assert result.returncode != 0


def test_database_file_is_written_under_data_the_volume_mount(container: Container) -> None:
    assert (container.app_dir / "data" / "reglab.db").is_file()


def test_entrypoint_asked_for_ray_without_an_address_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        container_argv(free_port()),
        cwd=tmp_path,
        env=image_env(REGLAB_EXECUTOR="ray"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "REGLAB_EXECUTOR=ray needs REGLAB_RAY_ADDRESS" in result.stderr


def test_entrypoint_asked_for_ray_with_no_head_answering_says_so_in_seconds(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    result = subprocess.run(
        container_argv(free_port()),
        cwd=tmp_path,
        env=image_env(
            REGLAB_EXECUTOR="ray",
            REGLAB_RAY_ADDRESS=f"127.0.0.1:{free_port()}",
            RAY_HEAD_WAIT_S="1",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no Ray head answers at 127.0.0.1:" in result.stderr
    assert "--profile cluster" in result.stderr
    assert time.monotonic() - began < 15


def test_entry_command_stops_cleanly_on_sigterm(container: Container) -> None:
    """Last in the module on purpose: it ends the server the tests above share."""
    began = time.monotonic()
    container.process.send_signal(signal.SIGTERM)  # what `docker stop` sends first
    code = container.process.wait(timeout=30)
    # uvicorn re-raises the signal once it has shut down, so the process ends "by" SIGTERM.
    assert code in {0, -signal.SIGTERM}
    assert time.monotonic() - began < 15, "docker stop would have had to SIGKILL it"
    log = (container.app_dir / "server.log").read_text()
    assert "Application shutdown complete" in log, "it did not shut down in order"
