"""The dropout-ensemble lesson through the service: its thinned nets are stored, served by REST
and streamed, its summary carries their numbers, and a spec that cannot picture them is a 422."""

from __future__ import annotations

from api.conftest import LiveServer, collect, tiny


def test_the_lessons_thinned_nets_are_served_and_streamed(server: LiveServer) -> None:
    lessons = {lesson["name"]: lesson for lesson in server.http.get("/api/lessons").json()}
    created = server.submit(tiny(lessons["dropout-ensemble"], epochs=4))
    finished = server.wait_finished(created["id"])
    runs = {r["variant"]: r for r in finished["runs"]}
    assert set(runs) == {"dropout", "linear"}

    for variant, run in runs.items():
        assert run["status"] == "completed"
        shots = server.http.get(f"/api/runs/{run['id']}/snapshots?kind=ensemble").json()
        assert [s["epoch"] for s in shots] == [2, 4], variant
        data = shots[-1]["data"]
        assert len(data["average"]) == len(data["sizes"]) == 5
        assert len(data["full"]) == len(data["full"][0]) == 40
        numbers = run["summary"]["extra"]["ensemble"]
        assert numbers["diff"] == data["diff"] and numbers["val_full"] == data["val_full"]
    assert "exact" not in shots_of(server, runs["dropout"]["id"])
    exact = shots_of(server, runs["linear"]["id"])["exact"]
    assert exact["masks"] == 4 and exact["max_diff"] < 1e-5

    ids = {r["id"] for r in finished["runs"]}
    streamed = [
        m
        for m in collect(server, created["id"], ids)
        if m["type"] == "snapshot" and m["kind"] == "ensemble"
    ]
    assert {(m["run_id"], m["epoch"]) for m in streamed} == {(i, e) for i in ids for e in (2, 4)}


def shots_of(server: LiveServer, run_id: int) -> dict:
    shots = server.http.get(f"/api/runs/{run_id}/snapshots?kind=ensemble&epoch=4").json()
    assert len(shots) == 1
    return shots[0]["data"]


def test_thinned_nets_without_dropout_are_a_422_naming_the_field(server: LiveServer) -> None:
    body = {"base": {"train": {"epochs": 2, "thinned_nets": True}, "data": {"n_train": 40}}}
    response = server.http.post("/api/experiments", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["field"] == "base.train.thinned_nets"
    assert "set regularization.dropout" in error["msg"]
