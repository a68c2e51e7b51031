"""The page learns the run statuses, and which are final, from the server: one copy of the fact."""

from __future__ import annotations

from api.conftest import LiveServer


def test_statuses_name_every_status_and_the_final_ones(server: LiveServer) -> None:
    body = server.http.get("/api/statuses").json()
    assert body["statuses"][:2] == ["queued", "running"]
    assert set(body["final"]) == set(body["statuses"]) - {"queued", "running"}
    assert "interrupted" in body["final"] and "stopped_early" in body["final"]
