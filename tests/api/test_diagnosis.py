"""Every finished run carries the recipe's diagnosis wherever the API sends it."""

from __future__ import annotations

import pytest

from api.conftest import LiveServer, tiny

pytestmark = pytest.mark.slow

BRANCHES = {"training", "overfitting", "fine"}
CAUSES = {"vanishing-gradients", "learning-rate", "plateau", None}


def test_a_finished_run_carries_its_diagnosis_in_every_read_and_a_deep_sigmoid_net_is_diagnosed(
    server: LiveServer,
) -> None:
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    # The vanishing-gradients lesson cut to 6 epochs on 60 points (about a second of training).
    created = server.submit(tiny(lessons["vanishing-gradients"], epochs=6))
    finished = server.wait_finished(created["id"])
    runs = {r["variant"]: r for r in finished["runs"]}
    assert set(runs) == {"sigmoid", "relu", "maxout"}
    for run in runs.values():
        found = run["diagnosis"]
        assert found["branch"] in BRANCHES and found["cause"] in CAUSES, found
        assert found["sentence"] and found["numbers"]["baseline_loss"] > 0
        assert "trace" in run["summary"]["extra"]  # the numbers it read are stored with the run
        # The same diagnosis on the run's own page and in the runs list.
        assert server.http.get(f"/api/runs/{run['id']}").json()["diagnosis"] == found
    listed = server.http.get(f"/api/runs?experiment_id={created['id']}").json()["items"]
    assert {r["id"]: r["diagnosis"] for r in listed} == {
        r["id"]: r["diagnosis"] for r in finished["runs"]
    }
    sigmoid = runs["sigmoid"]["diagnosis"]
    assert (sigmoid["branch"], sigmoid["cause"]) == ("training", "vanishing-gradients"), sigmoid
    assert sigmoid["lesson"] == "vanishing-gradients"
    assert {r["name"] for r in sigmoid["remedies"]} == {"relu", "maxout"}
    assert sigmoid["numbers"]["grad_ratio"] < 0.01
    # Before it has trained, a run has no diagnosis to show.
    queued = server.http.post("/api/runs?name=fresh", json={"train": {"epochs": 1}}).json()
    assert queued["status"] == "queued" and queued["diagnosis"] is None
