"""The Dockerfile, docker-compose.yml and .dockerignore say what the classroom guide promises.

Docker cannot run here, so these read the files as Docker would and hold them to the code:
the container command is a real CLI command, every REGLAB_ variable is a real setting, and the
Ray cluster never publishes a port.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
from deployfiles import (
    BIN,
    COMPOSE,
    DOCKERIGNORE,
    ENTRYPOINT_SCRIPT,
    ROOT,
    command_argv,
    compose,
    dockerfile_global_args,
    dockerfile_stages,
    environment,
    interpolate,
    last,
    service,
    stage_arg,
)
from pydantic import ValidationError
from reglab.config import Settings

CONTAINER_COMMAND = ["reglab", "serve", "--host", "0.0.0.0", "--port", "8000"]
RAY_SERVICES = ("ray-head", "ray-worker")
# Ray's ports a classroom must never reach: dashboard and job API, client server, GCS.
RAY_PORTS = {"8265", "10001", "6379", "52365"}
COMPILERS = ("gcc", "g++", "build-essential", "clang", "make ")


def test_image_is_built_in_two_stages_on_python_311_slim() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    # A build argument, so that a base made without Docker Hub can stand in (docs/classroom.md).
    assert dockerfile_global_args()["PYTHON_IMAGE"] == "python:3.11-slim"
    for stage in stages:
        assert stage[0].args.split()[0] == "${PYTHON_IMAGE}"


def _torch_install(tmp_path: Path, **build_args: str) -> str:
    """What the builder's torch step asks pip for, with `pip` and `python` standing in."""
    step = next(i.args for i in dockerfile_stages()[0] if "torch==2.13.0" in i.args)
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    for name in ("pip", "python"):
        (fake / name).write_text(f'#!/bin/sh\necho {name} "$@"\n')
        (fake / name).chmod(0o755)
    args = {"TORCH_SOURCE": stage_arg(dockerfile_stages()[0], "TORCH_SOURCE"), **build_args}
    env = {"PATH": f"{fake}{os.pathsep}/usr/bin:/bin", **args}
    done = subprocess.run(["sh", "-c", step], env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[0]


def test_builder_installs_the_pinned_cpu_torch_from_the_pytorch_index(tmp_path: Path) -> None:
    assert _torch_install(tmp_path) == (
        "pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0"
    )
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in pinned  # the project's own pin is the one the image installs


def test_builder_takes_torch_from_a_directory_when_told(tmp_path: Path) -> None:
    assert _torch_install(tmp_path, TORCH_SOURCE="/opt/wheels") == (
        "pip install --find-links /opt/wheels torch==2.13.0"
    )
    step = next(i.args for i in dockerfile_stages()[0] if "torch==2.13.0" in i.args)
    assert "endswith('+cpu')" in step  # and refuses any build of torch but the CPU one


def test_final_stage_has_no_compiler_and_no_source_tree_build() -> None:
    final = dockerfile_stages()[-1]
    runs = " ".join(i.args for i in final if i.keyword == "RUN")
    assert "pip install" not in runs  # everything arrives as the builder's venv
    for compiler in COMPILERS:
        assert compiler not in runs, f"the final stage installs {compiler.strip()}"
    copied = [i.args for i in final if i.keyword == "COPY"]
    assert any("--from=builder /opt/venv" in c for c in copied)


def test_container_runs_as_a_non_root_user() -> None:
    final = dockerfile_stages()[-1]
    user = last(final, "USER").args.split(":")[0]
    assert user not in {"root", "0"}
    keywords = [i.keyword for i in final]
    assert keywords.index("USER") > max(k for k, i in enumerate(final) if i.keyword == "RUN"), (
        "every RUN of the final stage happens before USER, so nothing runs as root at start"
    )


def test_container_command_is_reglab_serve_on_all_interfaces() -> None:
    final = dockerfile_stages()[-1]
    assert last(final, "CMD").exec_form() == CONTAINER_COMMAND
    entrypoint = last(final, "ENTRYPOINT").exec_form()
    assert entrypoint == ["reglab-entrypoint"]
    copied = " ".join(i.args for i in final if i.keyword == "COPY")
    assert "docker/entrypoint.sh /usr/local/bin/reglab-entrypoint" in copied
    assert ENTRYPOINT_SCRIPT.read_text().rstrip().endswith('exec "$@"')


def test_container_command_is_the_installed_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[CONTAINER_COMMAND[0]] == "reglab.cli:app"


def test_database_lands_on_the_data_volume() -> None:
    final = dockerfile_stages()[-1]
    assert last(final, "WORKDIR").args == "/app"
    assert '"/app/data"' in last(final, "VOLUME").args
    url = interpolate(environment("reglab")["REGLAB_DATABASE_URL"])
    assert url == Settings.model_fields["database_url"].default == "sqlite:///./data/reglab.db"
    mounts = service("reglab")["volumes"]
    assert "reglab-data:/app/data" in mounts
    assert "reglab-data" in compose()["volumes"]


def test_image_ships_the_frontend_where_settings_look_for_it() -> None:
    final = dockerfile_stages()[-1]
    assert any(i.args == "frontend ./frontend" for i in final if i.keyword == "COPY")
    assert "/app/frontend" in (ROOT / "backend/reglab/config.py").read_text()


def test_dockerfile_and_compose_check_health_with_python_on_api_health() -> None:
    image_check = last(dockerfile_stages()[-1], "HEALTHCHECK").exec_form()
    compose_check = service("reglab")["healthcheck"]["test"]
    for check in (image_check, compose_check[1:]):
        assert check[:2] == ["python", "-c"]
        assert "http://127.0.0.1:8000/api/health" in check[2]
    assert compose_check[0] == "CMD"


def test_default_service_restarts_and_reads_an_optional_env_file() -> None:
    reglab = service("reglab")
    assert "profiles" not in reglab
    assert reglab["restart"] in {"unless-stopped", "always"}
    assert reglab["env_file"] == [{"path": ".env", "required": False}]
    [published] = reglab["ports"]
    assert interpolate(published) == "8000:8000"
    assert interpolate(published, {"HTTP_BIND": "127.0.0.1:8080"}) == "127.0.0.1:8080:8000"
    assert "command" not in reglab  # the image's CMD, the one the entry-command test runs


def test_cluster_profile_adds_a_ray_head_and_scalable_workers() -> None:
    for name in RAY_SERVICES:
        ray_service = service(name)
        assert ray_service["profiles"] == ["cluster"]
        # The image with Ray; the server runs it too when it trains on Ray.
        assert ray_service["image"] == "reglab:ray"
        assert ray_service["build"] == {"context": ".", "args": {"REGLAB_EXECUTOR": "ray"}}
        assert interpolate(service("reglab")["image"], {"REGLAB_EXECUTOR": "ray"}) == "reglab:ray"
        assert ray_service["restart"] == "unless-stopped"
        assert ray_service["healthcheck"]["test"][:3] == ["CMD", "ray", "health-check"]
    worker = service("ray-worker")
    assert "container_name" not in worker, "a fixed name would forbid --scale"
    # Ray counts the host's CPUs in every container unless told: the count and the limit agree.
    assert f"--num-cpus={worker['cpus']}" in command_argv("ray-worker")
    assert interpolate(str(worker["cpus"])) == "2"
    assert worker["depends_on"]["ray-head"]["condition"] == "service_healthy"


def test_no_ray_port_is_published_outside_the_compose_network() -> None:
    head = command_argv("ray-head")
    assert "--include-dashboard=false" in head  # no dashboard means no job-submission API
    for name, spec in compose()["services"].items():
        published = " ".join(str(p) for p in spec.get("ports", []))
        for port in RAY_PORTS:
            assert not re.search(rf"\b{port}\b", published), f"{name} publishes Ray port {port}"
    for name in RAY_SERVICES:
        assert "ports" not in service(name)
        assert service(name).get("network_mode") != "host"


def test_reglab_points_at_the_ray_head_when_told_to_use_ray() -> None:
    env = environment("reglab")
    assert interpolate(env["REGLAB_EXECUTOR"]) == "local"
    assert interpolate(env["REGLAB_EXECUTOR"], {"REGLAB_EXECUTOR": "ray"}) == "ray"
    head_port = next(a.split("=")[1] for a in command_argv("ray-head") if a.startswith("--port="))
    assert interpolate(env["REGLAB_RAY_ADDRESS"]) == f"ray-head:{head_port}"
    assert f"--address=ray-head:{head_port}" in command_argv("ray-worker")
    depends = service("reglab")["depends_on"]["ray-head"]
    assert depends == {"condition": "service_healthy", "required": False}


def _reglab_variables() -> dict[str, str]:
    """Every REGLAB_ variable the deployment sets or reads, with the value it gives (or '')."""
    found: dict[str, str] = {}
    for spec in compose()["services"].values():
        env = spec.get("environment", {})
        for key, value in env.items():
            if key.startswith("REGLAB_"):
                found[key] = interpolate(str(value))
    for instruction in dockerfile_stages()[-1]:
        if instruction.keyword == "ENV":
            for key, value in re.findall(r"(REGLAB_\w+)=(\S+)", instruction.args):
                found[key] = value
    for key in re.findall(r"REGLAB_\w+", ENTRYPOINT_SCRIPT.read_text()):
        found.setdefault(key, "")
    return found


def test_every_reglab_variable_of_the_deployment_is_a_setting() -> None:
    variables = _reglab_variables()
    assert {"REGLAB_EXECUTOR", "REGLAB_RAY_ADDRESS", "REGLAB_DATABASE_URL"} <= variables.keys()
    fields = Settings.model_fields
    for key in variables:
        assert key.removeprefix("REGLAB_").lower() in fields, f"{key} is not in Settings"


def test_values_the_deployment_sets_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _reglab_variables().items():
        if value:
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT / "tests")  # away from any developer's .env
    settings = Settings()
    assert settings.executor == "local"
    assert settings.ray_address == "ray-head:6379"
    monkeypatch.setenv("REGLAB_EXECUTOR", "ray")
    assert Settings().executor == "ray"


def test_a_misspelled_executor_is_refused_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above is only worth something if Settings refuses what compose could get wrong.
    monkeypatch.setenv("REGLAB_EXECUTOR", "rayy")
    monkeypatch.chdir(ROOT / "tests")
    with pytest.raises(ValidationError, match="executor"):
        Settings()


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for path in (".env", ".venv", "data", ".git", "*.db"):
        assert path in ignored, f".dockerignore lets {path} into the image"
    for needed in ("backend", "frontend", "pyproject.toml", "README.md", "docker"):
        assert needed not in ignored, f".dockerignore drops {needed}, which the build copies"


CLASSROOM = ROOT / "docs" / "classroom.md"


def _route_shape(path: str) -> str:
    """/api/experiments/42/cancel and /api/experiments/{experiment_id}/cancel look alike."""
    return re.sub(r"/(\{[^}]+\}|\d+)", "/*", path.rstrip("/"))


def test_classroom_guide_names_only_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    named = set(re.findall(r"REGLAB_[A-Z_]+", CLASSROOM.read_text()))
    assert {"REGLAB_ADMIN_TOKEN", "REGLAB_EXECUTOR", "REGLAB_CORS_ORIGINS"} <= named
    for key in named:
        assert key.removeprefix("REGLAB_").lower() in Settings.model_fields, f"{key} is no setting"


def test_classroom_guide_names_only_real_routes(tmp_path: Path) -> None:
    from reglab.api.app import create_app

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    # A route's parameters match any one path segment: the guide may show an example value
    # (/api/identity/Ada for /api/identity/{name}).
    routes = [
        re.compile("^" + re.escape(_route_shape(path)).replace(r"\*", "[^/]+") + "$")
        for path in app.openapi()["paths"]
    ]
    named = set(re.findall(r"(/api/[\w/{}.-]+)", CLASSROOM.read_text()))
    assert "/api/admin/cancel-all" in named
    for path in named:
        shape = _route_shape(path)
        assert any(route.match(shape) for route in routes), (
            f"docs/classroom.md names {path}, which is no route"
        )


def test_every_shell_line_of_the_classroom_guide_is_one_whole_command() -> None:
    # The container tests run the guide's ```sh blocks line by line (backslash continuations
    # joined), so a quoted string spanning lines breaks them; a body belongs in a file.
    for block in re.findall(r"```sh\n(.*?)```", CLASSROOM.read_text(), flags=re.DOTALL):
        for line in re.sub(r"\\\n\s*", "", block).strip().splitlines():
            try:
                shlex.split(line, comments=True)
            except ValueError as exc:
                message = f"docs/classroom.md: {line!r} is not one command: {exc}"
                raise AssertionError(message) from None


def test_classroom_guide_commands_match_the_compose_file() -> None:
    text = CLASSROOM.read_text()
    assert "docker compose --profile cluster up -d" in text
    assert "--scale ray-worker=" in text
    for variable in set(re.findall(r"\b(RAY_[A-Z_]+)\b", text)) - {"RAY_AUTH_MODE"}:
        assert variable in COMPOSE.read_text(), f"the guide's {variable} is not in compose"
    assert "reglab-data" in text and "reglab-data" in compose()["volumes"]
    assert "/app/data" in text


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_builder_requirement_list_is_the_project_dependencies_and_the_ray_extra_for_ray(
    tmp_path: Path, executor: str
) -> None:
    """Runs the builder's own one-liner (from the Dockerfile) on pyproject.toml."""
    run = next(i.args for i in dockerfile_stages()[0] if "tomllib" in i.args)
    listing = run.split("&&")[0].replace("/tmp/requirements.txt", str(tmp_path / "req.txt"))
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["REGLAB_EXECUTOR"] = executor
    subprocess.run(["sh", "-c", listing], cwd=tmp_path, env=env, check=True, timeout=60)
    listed = (tmp_path / "req.txt").read_text().split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = project["optional-dependencies"]["ray"] if executor == "ray" else []
    assert listed == project["dependencies"] + extra
    assert "torch==2.13.0" in listed
    assert not any(r.startswith("plotly") for r in listed)  # plotly.js ships inside reglab


def test_compose_builds_the_server_image_with_ray_only_when_it_trains_on_ray() -> None:
    reglab = service("reglab")
    args = reglab["build"]["args"]
    assert interpolate(args["REGLAB_EXECUTOR"]) == "local"
    assert interpolate(reglab["image"]) == "reglab:local"
    assert interpolate(args["REGLAB_EXECUTOR"], {"REGLAB_EXECUTOR": "ray"}) == "ray"
    assert stage_arg(dockerfile_stages()[0], "REGLAB_EXECUTOR") == "local"
