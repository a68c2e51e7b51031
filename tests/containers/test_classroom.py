"""The classroom deployment in real containers, following docs/classroom.md command by command.

1. build the base and both images offline (conftest `images`), with their sizes and build times;
2. `up` the default service on 127.0.0.1: healthy, a lesson over REST streams over the websocket
   exactly the rows the container's SQLite file holds, page and plotly.min.js served, non-root;
3. `restart` and `down`/`up` keep every finished run; `down -v` empties the volume;
4. the `cluster` profile (a Ray head and two workers, REGLAB_EXECUTOR=ray): a comparison trains
   in a worker container, not the server's; a worker killed mid-run fails its runs with a reason,
   the server stays up and the next comparison trains on what is left;
5. a wrong .env (Ray without a head): the container exits with the entrypoint's sentence.
Every project's containers, networks and volumes are removed at the end, also on failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from podman_engine import ROOT, Project, log, podman, wait_for
from podman_engine import run as run_command

from tests.support import Api, free_port

# The first build from nothing takes most of this; pytest-timeout's 300 s suits unit tests only.
pytestmark = [pytest.mark.timeout(1800)]

EPOCH_COLUMNS = ("epoch", "train_loss", "val_loss", "train_acc", "val_acc", "weight_l2")
TRAIN_TASK = "_train_group_task"  # Ray names a worker process after the task it runs
# A run that trained to its end: all its epochs, or early stopping's or divergence's verdict.
TRAINED = {"completed", "stopped_early", "diverged"}


def lesson(api: Api, epochs: int, n_train: int, name: str = "overfitting") -> dict[str, Any]:
    """A lecture lesson as the server lists it, cut to `epochs` on `n_train` points."""
    lessons = {item["name"]: item for item in api.http.get("/api/lessons").json()}
    spec: dict[str, Any] = json.loads(json.dumps(lessons[name]["spec"]))
    spec["base"]["train"].update(epochs=epochs, snapshot_every=max(1, epochs // 4))
    spec["base"]["data"]["n_train"] = n_train
    spec["repeats"] = 1  # one run per variant: the deployment, not the statistics, is under test
    for variant in spec.get("variants", []):
        variant["override"].get("train", {}).pop("epochs", None)
        variant["override"].get("data", {}).pop("n_train", None)
    return spec


def stored_epochs(project: Project, container: str, run_ids: list[int]) -> dict[int, list[Any]]:
    """epoch_metric rows as the SQLite file on the volume holds them, read inside the container."""
    query = (
        f"SELECT run_id, {', '.join(EPOCH_COLUMNS)} FROM epoch_metric "
        f"WHERE run_id IN ({', '.join(map(str, run_ids))}) ORDER BY run_id, epoch"
    )
    script = (
        "import json, sqlite3; "
        f"print(json.dumps(sqlite3.connect('data/reglab.db').execute({query!r}).fetchall()))"
    )
    rows = json.loads(podman("exec", container, "python", "-c", script, env=project.env))
    found: dict[int, list[Any]] = {r: [] for r in run_ids}
    for row in rows:
        found[row[0]].append(list(row[1:]))
    return found


def finished_runs(api: Api) -> dict[int, tuple[str, int]]:
    """Every run the server lists: id -> (status, number of stored epochs)."""
    result = {}
    for item in api.http.get("/api/experiments").json()["items"]:
        for run in api.experiment(item["id"])["runs"]:
            metrics = api.http.get(f"/api/runs/{run['id']}/metrics").json()
            result[run["id"]] = (run["status"], len(metrics))
    return result


@pytest.fixture
def project(
    request: pytest.FixtureRequest, workdir: Path, engine_env: dict[str, str]
) -> Iterator[Project]:
    name = f"reglabtest{os.getpid()}{request.node.name.split('_')[1]}"
    made = Project(workdir, name, engine_env)
    try:
        yield made
    finally:
        made.remove()


def serve_here(project: Project, **settings: str) -> Api:
    """.env from the guide's `cp`, published on 127.0.0.1 at a free port; the API client."""
    project.guide("cp .env.example .env")
    port = free_port()
    project.set_env(HTTP_BIND=f"127.0.0.1:{port}", **settings)
    api = Api(f"http://127.0.0.1:{port}", user="ada")
    project.clients.append(api.http)
    return api


def answering(api: Api) -> bool:
    try:
        return api.http.get("/api/health").status_code == 200
    except httpx.HTTPError:
        return False


def test_1_images_are_built_offline_and_the_classroom_image_is_at_most_half(
    images: dict[str, int],
) -> None:
    local, ray = images["localhost/reglab:local"], images["localhost/reglab:ray"]
    assert local <= 1.93e9 / 2, f"reglab:local is {local / 1e6:.0f} MB"
    assert ray > local + 100e6, "reglab:ray should be the one with Ray"
    for image in ("reglab:local", "reglab:ray"):
        inspected = json.loads(podman("image", "inspect", image, env=dict(os.environ)))[0]
        assert inspected["Config"]["User"] == "reglab", "the image runs as its unprivileged user"
        # --format docker keeps the HEALTHCHECK (the OCI format has no place for it).
        check = inspected.get("Healthcheck") or {}
        assert check.get("Test", [])[:3] == ["CMD", "python", "-c"], inspected.get("Healthcheck")


def test_2_default_service_serves_a_lesson_over_the_published_port(
    images: dict[str, int], project: Project
) -> None:
    api = serve_here(project)
    project.guide("docker compose up -d --build")
    server = project.one("reglab")
    project.healthy(server)
    assert "healthy" in project.guide("docker compose ps")
    health = api.http.get("/api/health").json()
    assert health["executor"] == "local"

    page = api.http.get("/")
    assert page.status_code == 200 and '<script src="/static/plotly.min.js">' in page.text
    served = api.http.get("/static/plotly.min.js")
    shipped = (ROOT / "backend/reglab/api/static/plotly.min.js").read_bytes()
    assert served.status_code == 200 and served.content == shipped
    log(f"page {len(page.content)} bytes, plotly.min.js {len(served.content)} bytes, both served")

    body = lesson(api, epochs=6, n_train=80)
    created = api.submit(body)
    run_ids = [run["id"] for run in created["runs"]]
    assert len(run_ids) >= 2, "a lesson compares runs"
    messages = api.read_stream(
        created["id"],
        lambda ms: set(run_ids) <= {m["run_id"] for m in ms if m["type"] == "summary"},
        timeout=180,
    )
    streamed = {
        r: [
            [m[c] for c in EPOCH_COLUMNS]
            for m in messages
            if m["type"] == "epoch" and m["run_id"] == r
        ]
        for r in run_ids
    }
    stored = stored_epochs(project, server, run_ids)
    for run_id in run_ids:
        assert [row[0] for row in stored[run_id]] == [1, 2, 3, 4, 5, 6]
        assert streamed[run_id] == stored[run_id], f"run {run_id}: socket and SQLite differ"
    log(f"lesson: {len(run_ids)} runs x 6 epochs, websocket rows == SQLite rows on the volume")

    users = {user for user, args in project.processes(server) if "reglab serve" in args}
    assert users == {"reglab"}, f"reglab serve runs as {users}"
    log(f"'reglab serve' runs as {users}, uid {project.inspect(server)['Config']['User']}")

    # ---- step 3: the named volume keeps every finished run; down -v empties it ----
    finished = api.wait_finished(created["id"], timeout=60)
    assert all(run["status"] in TRAINED for run in finished["runs"])
    before = finished_runs(api)

    project.guide("docker compose restart reglab")
    project.healthy(project.one("reglab"))
    assert finished_runs(api) == before
    log(f"after restart: the same {len(before)} completed runs and their epochs")

    project.guide("docker compose down")
    assert project.containers() == []
    project.guide("docker compose up -d")
    project.healthy(project.one("reglab"))
    assert finished_runs(api) == before
    log("after down and up: the same runs (the reglab-data volume)")

    project.guide("docker compose down -v")
    project.guide("docker compose up -d")
    project.healthy(project.one("reglab"))
    assert api.http.get("/api/experiments").json()["total"] == 0
    log("after down -v and up: no experiments (a new class)")


def workers_running_training(project: Project) -> dict[str, bool]:
    """Each Ray container: whether a process of it is running a training task right now."""
    return {
        container: any(TRAIN_TASK in args for _, args in project.processes(container))
        for container in project.containers("ray-worker") + project.containers("reglab")
    }


def test_4_cluster_profile_trains_on_ray_workers_and_survives_a_killed_worker(
    images: dict[str, int], project: Project
) -> None:
    api = serve_here(project, REGLAB_EXECUTOR="ray", RAY_WORKER_CPUS="1", REGLAB_RAY_SLOTS="2")
    project.guide("docker compose --profile cluster up -d --build --scale ray-worker=2")
    workers = project.containers("ray-worker")
    assert len(workers) == 2 and len(project.containers("ray-head")) == 1
    project.healthy(project.one("ray-head"))
    for worker in workers:
        project.healthy(worker)
    server = project.one("reglab")
    project.healthy(server)
    health = api.http.get("/api/health").json()
    assert health["executor"] == "ray", health
    log(f"cluster: head, {len(workers)} workers, server; health says {health['executor']}")

    # A comparison long enough to be seen running: which container runs the training task?
    created = api.submit(lesson(api, epochs=400, n_train=200))
    run_ids = [run["id"] for run in created["runs"]]
    seen = wait_for(
        lambda: [c for c, busy in workers_running_training(project).items() if busy],
        120,
        "a training task in some container",
    )
    assert set(seen) <= set(workers), f"training ran in {seen}, not only in workers"
    log(f"the comparison trains in {seen} (a Ray worker container), not in {server}")
    finished = api.wait_finished(created["id"], timeout=600)
    outcome = {run["id"]: (run["status"], run["message"]) for run in finished["runs"]}
    assert all(status in TRAINED for status, _ in outcome.values()), outcome
    stored = stored_epochs(project, server, run_ids)
    for run_id, (status, _) in outcome.items():
        epochs = [row[0] for row in stored[run_id]]
        assert epochs and epochs == list(range(1, len(epochs) + 1)), run_id
        assert status != "completed" or len(epochs) == 400, run_id
    log(f"{len(run_ids)} runs trained on Ray: {sorted(s for s, _ in outcome.values())}")

    # Kill the worker that trains the next comparison, mid-run.
    long = lesson(api, epochs=2000, n_train=400)  # the most epochs a spec may ask for
    created = api.submit(long)
    run_ids = [run["id"] for run in created["runs"]]
    # Past epoch 150, early stopping (patience 20) has ended the runs it ends; the rest train on.
    wait_for(
        lambda: len(api.http.get(f"/api/runs/{run_ids[0]}/metrics").json()) > 150,
        180,
        "150 epochs",
    )
    busy = wait_for(
        lambda: [c for c, b in workers_running_training(project).items() if b],
        60,
        "the worker running the comparison",
    )
    victim = busy[0]
    # Early stopping may already have ended a run; every run still training must fail.
    training = [r["id"] for r in api.experiment(created["id"])["runs"] if r["status"] == "running"]
    podman("kill", "--signal", "KILL", victim, env=project.env)
    log(f"killed {victim} while it trained runs {training}")
    assert training
    finished = api.wait_finished(created["id"], timeout=180)
    # The server may split a comparison over idle workers: the runs on the killed one fail with
    # the reason, those on the other train to their end.
    failed = [r for r in finished["runs"] if r["status"] == "failed"]
    assert failed, "killing the worker that trained them failed no run"
    for run in failed:
        assert run["id"] in training and "Ray" in run["message"], run
    others = [r["status"] for r in finished["runs"] if r["status"] != "failed"]
    assert set(others) <= TRAINED, others
    log(f"{len(failed)} runs failed with: {failed[0]['message']!r}; the others: {others}")
    assert answering(api) and project.inspect(server)["State"]["Running"]
    log("the server kept answering")

    survivors = [w for w in workers if w != victim]
    created = api.submit(lesson(api, epochs=300, n_train=200))
    seen = wait_for(
        lambda: [c for c, b in workers_running_training(project).items() if b],
        120,
        "the next comparison to train",
    )
    finished = api.wait_finished(created["id"], timeout=600)
    outcome = [(run["status"], run["message"]) for run in finished["runs"]]
    assert all(status in TRAINED for status, _ in outcome), outcome
    assert set(seen) <= set(workers)
    log(f"the next comparison completed, trained in {seen} (left standing: {survivors})")


def test_5_ray_without_a_head_exits_with_the_entrypoint_sentence(
    images: dict[str, int], project: Project
) -> None:
    serve_here(project, REGLAB_EXECUTOR="ray", RAY_HEAD_WAIT_S="10")
    project.guide("docker compose up -d")
    server = project.one("reglab")
    sentence = "reglab: no Ray head answers at ray-head:6379."

    def logs() -> str:
        done = run_command(["podman", "logs", server], env=project.env, check=False)
        return done.stdout + done.stderr

    said = wait_for(lambda: sentence in logs(), 120, "the entrypoint's sentence", every=2)
    assert said
    # Every start says why it stops; `restart: unless-stopped` starts it again, and it says so.
    restarts = wait_for(lambda: project.inspect(server)["RestartCount"], 60, "a restart")
    assert logs().count(sentence) >= restarts >= 1
    assert "Uvicorn running" not in logs()
    log(f"{server} exited {restarts} time(s), each time saying: {sentence} ...")
