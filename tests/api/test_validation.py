"""Bad input: every invalid spec is a 422 naming its field; oversize bodies and unknown ids too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from reglab.api.app import plotly_js
from reglab.api.sockets import INVALID_CLOSE_CODE
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.conftest import LiveServer

BASE: dict[str, Any] = {"train": {"epochs": 3}, "data": {"n_train": 40}}


def field_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"base": {"data": {"n_train": 5}}}, "base.data.n_train"),
        ({"base": {"model": {"hidden": [64, 0]}}}, "base.model.hidden.1"),
        ({"base": {"model": {"activation": "swish"}}}, "base.model.activation"),
        ({"base": {"optimizer": {"lr": -1}}}, "base.optimizer.lr"),
        ({"base": {"train": {"epochs": 5000}}}, "base.train.epochs"),
        ({"base": {"data": {"val_fraction": 0.5, "test_fraction": 0.4}}}, "base.data"),
        ({"base": {"regularization": {"l3": 1}}}, "base.regularization.l3"),
        (
            {
                "base": BASE,
                "variants": [
                    {"name": "ok"},
                    {"name": "big", "override": {"regularization": {"l2": 5}}},
                ],
            },
            "variants.1.override.regularization.l2",
        ),
        (
            {
                "base": BASE,
                "variants": [{"name": "x", "override": {"optimizer": {"kind": "lbfgs"}}}],
            },
            "variants.0.override.optimizer.kind",
        ),
        (
            {"base": BASE, "grid": [{"field": "regularization.dropout", "values": [0.1, 2.0]}]},
            "grid.0.values",
        ),
        ({"base": BASE, "variants": [{"name": "a"}, {"name": "a"}]}, "variants"),
        (
            {
                "base": BASE,
                "variants": [{"name": "a"}],
                "grid": [{"field": "regularization.l2", "values": [0.1]}],
            },
            "variants",
        ),
        ({"base": BASE, "variants": [{"name": "bad/name"}]}, "variants.0.name"),
        ({"lesson": "no-such-lesson"}, "lesson"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_experiment_is_422_naming_the_field(
    server: LiveServer, body: dict[str, Any], field: str
) -> None:
    assert field in field_of(server.http.post("/api/experiments", json=body))


def test_invalid_single_run_is_422_naming_the_field(server: LiveServer) -> None:
    response = server.http.post("/api/runs", json={"optimizer": {"momentum": 1.5}})
    assert field_of(response) == ["optimizer.momentum"]


def test_422_message_is_a_sentence_without_pydantic_jargon(server: LiveServer) -> None:
    body = {"base": BASE, "variants": [{"name": "v", "override": {"regularization": {"l2": 5}}}]}
    detail = server.http.post("/api/experiments", json=body).json()["detail"][0]
    assert detail["msg"] == "Input should be less than or equal to 1"


def test_bad_display_name_is_422_naming_the_header(server: LiveServer) -> None:
    response = server.http.post(
        "/api/experiments", json={"base": BASE}, headers={"X-Reglab-User": "<script>"}
    )
    assert field_of(response) == ["X-Reglab-User"]


def test_oversize_body_is_refused_with_413(server: LiveServer) -> None:
    limit = server.settings.max_request_bytes
    body = b'{"description": "' + b"x" * limit + b'"}'
    response = server.http.post(
        "/api/experiments", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert str(limit) in response.json()["detail"]


def test_oversize_chunked_body_is_refused_with_413(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(server.settings.max_request_bytes // 1000 + 2):
            yield b"x" * 1000

    response = server.http.post(
        "/api/experiments", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/experiments/9999"),
        ("POST", "/api/experiments/9999/cancel"),
        ("POST", "/api/experiments/9999/clone"),
        ("DELETE", "/api/experiments/9999"),
        ("GET", "/api/experiments/9999/export.csv"),
        ("GET", "/api/runs/9999"),
        ("GET", "/api/runs/9999/metrics"),
        ("GET", "/api/runs/9999/snapshots"),
        ("POST", "/api/runs/9999/cancel"),
    ],
)
def test_unknown_ids_are_404_with_a_sentence(server: LiveServer, method: str, path: str) -> None:
    response = server.http.request(method, path)
    assert response.status_code == 404
    assert "9999" in response.json()["detail"]


def test_run_spec_schema_describes_every_section(server: LiveServer) -> None:
    schema = server.http.get("/api/schema/run-spec").json()
    assert set(schema["properties"]) == {"data", "model", "optimizer", "regularization", "train"}
    assert schema["$defs"]["TrainSpec"]["properties"]["epochs"]["maximum"] == 2000


def test_list_pagination_is_bounded(server: LiveServer) -> None:
    assert field_of(server.http.get("/api/experiments?limit=0")) == ["limit"]
    assert field_of(server.http.get("/api/runs?status=sleeping")) == ["status"]


def test_dashboard_page_and_bundled_plotly_are_served(server: LiveServer) -> None:
    page = server.http.get("/")
    plotly = server.http.get("/static/plotly.min.js")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    assert plotly.headers["content-type"].startswith("text/javascript")
    # Gzipped ahead of time, the file itself once unpacked; a browser holding it gets a 304.
    shipped = plotly_js().read_bytes()
    assert plotly.headers["content-encoding"] == "gzip" and plotly.content == shipped
    assert int(plotly.headers["content-length"]) < len(shipped) / 2
    again = server.http.get(
        "/static/plotly.min.js", headers={"If-None-Match": plotly.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    plain = server.http.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == shipped


def test_openapi_lists_every_resource(server: LiveServer) -> None:
    paths = server.http.get("/openapi.json").json()["paths"]
    for path in [
        "/api/health",
        "/api/lessons",
        "/api/experiments",
        "/api/experiments/{experiment_id}",
        "/api/experiments/{experiment_id}/cancel",
        "/api/runs",
        "/api/runs/{run_id}/metrics",
        "/api/runs/{run_id}/snapshots",
        "/api/experiments/{experiment_id}/export.csv",
    ]:
        assert path in paths


TOO_BIG = str(2**64)  # beyond any integer SQLite (or a C long) holds


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/api/experiments/{TOO_BIG}", "experiment_id"),
        ("POST", f"/api/experiments/{TOO_BIG}/cancel", "experiment_id"),
        ("DELETE", f"/api/experiments/{TOO_BIG}", "experiment_id"),
        ("GET", f"/api/experiments/{TOO_BIG}/export.csv", "experiment_id"),
        ("GET", f"/api/runs/{TOO_BIG}", "run_id"),
        ("GET", f"/api/runs/{TOO_BIG}/snapshots", "run_id"),
        ("GET", f"/api/experiments?offset={TOO_BIG}", "offset"),
        ("GET", f"/api/runs?offset={TOO_BIG}", "offset"),
        ("GET", f"/api/runs?experiment_id={TOO_BIG}", "experiment_id"),
        ("GET", f"/api/runs/RUN/metrics?after_epoch={TOO_BIG}", "after_epoch"),
        ("GET", f"/api/runs/RUN/snapshots?epoch={TOO_BIG}", "epoch"),
    ],
)
def test_integers_beyond_what_the_store_holds_are_422_naming_the_parameter(
    server: LiveServer, method: str, path: str, field: str
) -> None:
    if "RUN" in path:  # a run that exists, so that only the query can be wrong
        path = path.replace("RUN", str(server.submit({"base": BASE})["runs"][0]["id"]))
    assert field_of(server.http.request(method, path)) == [field]


def test_a_non_ascii_admin_header_is_403_not_a_server_error(server: LiveServer) -> None:
    response = server.http.post(
        "/api/admin/cancel-all", headers={"X-Reglab-Admin": "sésame".encode()}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("since=abc", "since"),
        (f"since={TOO_BIG}", "since"),
        ("since=-1", "since"),
        ("batch=yes", "batch"),
        ("snapshots=1,x", "snapshots"),
        ("snapshots=0", "snapshots"),
        ("snapshots=" + ",".join(["1"] * 65), "at most 64 runs"),
        ("batch=1&every=-5", "every"),
        ("batch=1&every=1001", "from 0 to 1000"),
        ("every=50", "every needs batch=1"),
    ],
)
def test_bad_stream_parameters_close_with_a_code_and_a_reason(
    server: LiveServer, query: str, reason: str
) -> None:
    created = server.submit({"base": BASE})
    url = f"{server.ws_url}/ws/experiments/{created['id']}?{query}"
    with connect(url) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == INVALID_CLOSE_CODE
    assert reason in closed.value.rcvd.reason


def test_an_experiment_id_too_big_for_the_store_closes_the_stream_with_a_reason(
    server: LiveServer,
) -> None:
    with (
        connect(f"{server.ws_url}/ws/experiments/{TOO_BIG}") as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == INVALID_CLOSE_CODE
    assert "experiment" in closed.value.rcvd.reason


@pytest.mark.parametrize("where", ["base", "variant"])
def test_nan_in_a_spec_is_422_must_be_a_finite_number(server: LiveServer, where: str) -> None:
    lr = {"optimizer": {"lr": float("nan")}}
    body = (
        {"base": {**BASE, **lr}}
        if where == "base"
        else {"base": BASE, "variants": [{"name": "v", "override": lr}]}
    )
    response = server.http.post(
        "/api/experiments",
        content=json.dumps(body),  # json.dumps writes NaN, as a careless client would
        headers={"content-type": "application/json"},
    )
    detail = response.json()["detail"]
    assert response.status_code == 422, detail
    expected = "base.optimizer.lr" if where == "base" else "variants.0.override.optimizer.lr"
    assert [d["field"] for d in detail] == [expected]
    assert detail[0]["msg"].startswith("must be a finite number")
