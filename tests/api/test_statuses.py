"""The page learns the run statuses (which are final) and the per-epoch metrics from the server:
one copy of each fact."""

from __future__ import annotations

from api.conftest import LiveServer


def test_statuses_name_every_status_and_the_final_ones(server: LiveServer) -> None:
    body = server.http.get("/api/statuses").json()
    assert body["statuses"][:2] == ["queued", "running"]
    assert set(body["final"]) == set(body["statuses"]) - {"queued", "running"}
    assert "interrupted" in body["final"] and "stopped_early" in body["final"]


def test_metrics_name_every_number_a_stored_epoch_carries_in_order(server: LiveServer) -> None:
    served = server.http.get("/api/metrics").json()["metrics"]
    names = [m["name"] for m in served]
    assert names[:2] == ["train_loss", "val_loss"]
    assert [m["name"] for m in served if m["per_layer"]] == ["grad_norms"]
    assert {m["name"] for m in served if m["optional"]} == {"train_acc", "val_acc"}
    body = {"base": {"data": {"n_train": 40}, "model": {"hidden": [4]}, "train": {"epochs": 2}}}
    experiment = server.submit(body)
    server.wait_finished(experiment["id"])
    run = experiment["runs"][0]["id"]
    rows = server.http.get(f"/api/runs/{run}/metrics").json()
    assert [list(row)[2:] for row in rows] == [names, names]
