"""The Ray executor on a real local Ray: alone, then as the executor of the whole service.

Same events as training in this process, cancel of one member or a whole group, a lost worker;
then a lesson through the service on Ray gives the same epochs, in the database and over the
websocket, as on the local pool. One Ray runtime serves the module (it takes seconds to start).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RecordingSink
from liveserver import Live, serving, streamed_epochs, summarized
from reglab.config import Settings
from reglab.events import EpochEvent, Event, StatusEvent, SummaryEvent
from reglab.jobs.executor import Executor
from reglab.jobs.executors import make_executor
from reglab.spec import RunSpec
from reglab.training.plan import Group, Member

from tests.support import wait_for

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def tiny(**override: object) -> RunSpec:
    spec = {
        "data": {"kind": "moons", "n_train": 64, "seed": 3},
        "model": {"hidden": [8]},
        "train": {"epochs": 6, "batch_size": 16, "snapshot_every": 3},
    }
    for section, fields in override.items():
        assert isinstance(fields, dict)
        spec.setdefault(section, {}).update(fields)  # type: ignore[attr-defined]
    return RunSpec.model_validate(spec)


def long_running() -> RunSpec:
    """Thousands of epochs on more data: alive for longer than any of these tests needs."""
    return tiny(
        data={"n_train": 400},
        model={"hidden": [32, 32]},
        train={"epochs": 2000, "batch_size": 8, "snapshot_every": 500},
    )


def statuses(events: list[Event], run_id: int) -> list[str]:
    return [e.status for e in events if isinstance(e, StatusEvent) and e.run_id == run_id]


def group_of(*specs: RunSpec, first_id: int) -> Group:
    return Group(tuple(Member(first_id + i, f"m{i}", s) for i, s in enumerate(specs)))


def without_clock(event: EpochEvent) -> dict[str, object]:
    fields = dataclasses.asdict(event)
    fields.pop("seconds")
    return fields


@pytest.fixture(scope="module")
def executor(ray_runtime: None) -> Iterator[tuple[Executor, RecordingSink]]:
    settings = Settings(executor="ray", ray_slots=2, cancel_grace_s=3.0)
    ray_executor = make_executor(settings)
    sink = RecordingSink()
    ray_executor.start(sink)
    try:
        yield ray_executor, sink
    finally:
        ray_executor.shutdown()


def test_ray_executor_is_what_settings_choose(
    executor: tuple[Executor, RecordingSink],
) -> None:
    ray_executor, _ = executor
    assert type(ray_executor).__module__ == "reglab.jobs.ray"
    assert ray_executor.slots == 2


def test_group_on_ray_yields_exactly_the_events_of_training_here(
    executor: tuple[Executor, RecordingSink],
) -> None:
    from reglab.training.loop import train_group

    ray_executor, sink = executor
    group = group_of(tiny(), tiny(regularization={"l2": 0.05}), first_id=1)
    ray_executor.submit("same-events", group)
    on_ray = sink.wait_done("same-events")
    here = list(train_group(group))

    assert on_ray.error is None
    assert [type(e) for e in on_ray.events] == [type(e) for e in here]
    for run_id in group.run_ids:
        assert [e.epoch for e in on_ray.epochs(run_id)] == [1, 2, 3, 4, 5, 6]
        assert [without_clock(e) for e in on_ray.epochs(run_id)] == [
            without_clock(e) for e in here if isinstance(e, EpochEvent) and e.run_id == run_id
        ]
        assert on_ray.statuses(run_id) == ["running", "completed"]
    summaries = [e for e in on_ray.events if isinstance(e, SummaryEvent)]
    assert [s.run_id for s in summaries] == group.run_ids
    assert sink.after_done == []


def test_cancelled_member_stops_while_its_group_trains_on(
    executor: tuple[Executor, RecordingSink],
) -> None:
    ray_executor, sink = executor
    group = group_of(long_running(), long_running(), first_id=11)
    ray_executor.submit("cancel-one", group)
    sink.wait_for_epoch("cancel-one", run_id=11, epoch=2)

    ray_executor.cancel([11])
    sink.wait_until("cancel-one", lambda events: "cancelled" in statuses(events, 11), timeout=30)
    first = max(e.epoch for e in sink.events["cancel-one"] if isinstance(e, EpochEvent))
    sink.wait_for_epoch("cancel-one", run_id=12, epoch=first + 5, timeout=30)
    events = list(sink.events["cancel-one"])
    assert statuses(events, 12) == ["running"]
    last_of_cancelled = max(e.epoch for e in events if isinstance(e, EpochEvent) and e.run_id == 11)
    last_of_other = max(e.epoch for e in events if isinstance(e, EpochEvent) and e.run_id == 12)
    assert last_of_other > last_of_cancelled, "the other member kept training"
    assert "cancel-one" not in sink.done

    ray_executor.cancel([12])
    finished = sink.wait_done("cancel-one", timeout=30)
    assert finished.error is None, "every member listened, so nothing was killed"
    assert finished.statuses(11)[-1] == finished.statuses(12)[-1] == "cancelled"


def _pid_of_task(name: str, timeout: float = 20) -> int:
    """The Ray worker process now running the task `name` (Ray titles it `ray::name`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(f"ray::{name}".encode()):
                return int(proc.name)
        time.sleep(0.1)
    raise AssertionError(f"no Ray worker is running {name}")


def test_lost_ray_worker_fails_its_group_with_a_reason(
    executor: tuple[Executor, RecordingSink],
) -> None:
    ray_executor, sink = executor
    group = group_of(long_running(), first_id=21)
    ray_executor.submit("lost", group)
    sink.wait_for_epoch("lost", run_id=21, epoch=1)

    os.kill(_pid_of_task("_train_group_task"), signal.SIGKILL)
    finished = sink.wait_done("lost", timeout=30)
    assert finished.error is not None
    assert "Ray worker died while training this run" in finished.error
    assert finished.statuses(21) == ["running"], "the scheduler, not the engine, settles it"

    # The cluster goes on: the next group is served.
    ray_executor.submit("after-loss", group_of(tiny(), first_id=22))
    assert sink.wait_done("after-loss").error is None


def test_error_inside_training_fails_the_group_with_its_message(
    executor: tuple[Executor, RecordingSink],
) -> None:
    ray_executor, sink = executor
    # A spec the API would refuse (batch size 0), as a corrupted row could still hold it.
    broken = tiny().model_copy(update={"train": tiny().train.model_copy(update={"batch_size": 0})})
    ray_executor.submit("broken", group_of(broken, first_id=31))
    finished = sink.wait_done("broken")
    assert finished.error is not None
    assert finished.error.split(":")[0].endswith("Error")  # "ValueError: ..." as the pool says


def test_group_that_outlasts_its_cancel_grace_is_stopped_by_ray(ray_runtime: None) -> None:
    from reglab.jobs.ray import RayExecutor

    # The task looks at its cancel flags once a minute, the grace is a second: Ray must step in.
    impatient = RayExecutor(address=None, slots=1, cancel_grace_s=1.0, cancel_poll_s=60.0)
    sink = RecordingSink()
    impatient.start(sink)
    try:
        impatient.submit("stuck", group_of(long_running(), first_id=41))
        sink.wait_for_epoch("stuck", run_id=41, epoch=1)
        impatient.cancel([41])
        finished = sink.wait_done("stuck", timeout=30)
    finally:
        impatient.shutdown()
    assert finished.error is not None
    assert finished.cancelled, "the executor says it ended the group for a cancel"
    assert finished.error.startswith("the group did not stop within 1 s")
    assert "cancelled" not in finished.statuses(41), "Ray stopped it before it could say so"


# ---- the whole service with REGLAB_EXECUTOR=ray, against the local pool ----


def small_lesson(live: Live, name: str = "overfitting") -> dict[str, Any]:
    """A lecture lesson as the API lists it, cut to a few epochs on little data."""
    lessons = {lesson["name"]: lesson for lesson in live.http.get("/api/lessons").json()}
    spec = json.loads(json.dumps(lessons.get(name, next(iter(lessons.values())))["spec"]))
    spec["base"]["train"].update(epochs=5, snapshot_every=2)
    spec["base"]["data"]["n_train"] = 60
    for variant in spec.get("variants", []):
        variant["override"].get("train", {}).pop("epochs", None)
        variant["override"].get("data", {}).pop("n_train", None)
    result: dict[str, Any] = spec
    return result


def lesson_through(live: Live, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Submit, follow the websocket to the end; per run name: streamed and stored epochs."""
    created = live.submit(body)
    run_ids = {run["id"] for run in created["runs"]}
    messages = live.read_stream(created["id"], summarized(run_ids), timeout=90)
    wait_for(
        lambda: all(live.run_status(r) == "completed" for r in run_ids), 30, "runs to complete"
    )
    return {
        run["name"]: {
            "streamed": streamed_epochs(messages, run["id"]),
            "stored": live.stored_epochs(run["id"]),
        }
        for run in created["runs"]
    }


def test_lesson_on_ray_streams_and_stores_the_same_epochs_as_on_the_local_pool(
    ray_runtime: None, tmp_path: Path
) -> None:
    with serving(tmp_path / "ray", executor="ray", ray_slots=2) as live:
        assert live.http.get("/api/health").json()["executor"] == "ray"
        body = small_lesson(live)
        on_ray = lesson_through(live, body)
    with serving(tmp_path / "local", executor="local", workers=1) as live:
        on_pool = lesson_through(live, body)

    assert len(on_ray) >= 2, "a lesson compares runs"
    assert on_ray.keys() == on_pool.keys()
    for name, ray_run in on_ray.items():
        assert [row[0] for row in ray_run["stored"]] == [1, 2, 3, 4, 5], name
        assert ray_run["streamed"] == ray_run["stored"], f"{name}: socket and database differ"
        assert ray_run["stored"] == on_pool[name]["stored"], f"{name}: Ray and the pool differ"


def test_cancel_through_the_api_stops_a_run_on_ray_while_its_sibling_goes_on(
    ray_runtime: None, tmp_path: Path
) -> None:
    slow = long_running().model_dump(mode="json")
    body = {
        "name": "cancel on ray",
        "base": slow,
        "variants": [{"name": "kept", "override": {}}, {"name": "stopped", "override": {}}],
    }
    with serving(tmp_path, executor="ray", ray_slots=2) as live:
        created = live.submit(body)
        kept, stopped = (run["id"] for run in created["runs"])
        live.read_stream(created["id"], lambda ms: bool(streamed_epochs(ms, stopped)), timeout=60)

        assert live.http.post(f"/api/runs/{stopped}/cancel").status_code == 202
        wait_for(lambda: live.run_status(stopped) == "cancelled", 30, "the run to stop")
        assert live.run_status(kept) == "running"
        before = len(live.stored_epochs(kept))
        wait_for(lambda: len(live.stored_epochs(kept)) > before + 3, 30, "the sibling to train")
        last_stopped = len(live.stored_epochs(stopped))

        assert live.http.post(f"/api/experiments/{created['id']}/cancel").status_code == 202
        wait_for(lambda: live.run_status(kept) == "cancelled", 30, "the experiment to stop")
        assert len(live.stored_epochs(stopped)) == last_stopped, "a cancelled run stays still"
