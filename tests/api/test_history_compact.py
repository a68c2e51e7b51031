"""The history a page opens with (?compact=true) and gzip on large answers, on a real server."""

from __future__ import annotations

import base64
import gzip
import math
from typing import Any

import httpx
import numpy as np
import pytest
from reglab.api.history import GRAD_NORMS_EVERY
from reglab.store.codec import nonfinite_name

from api.conftest import LiveServer, collect

pytestmark = pytest.mark.slow

EPOCHS = 45


@pytest.fixture(scope="module")
def finished(server: LiveServer) -> dict[str, Any]:
    created = server.submit(
        {
            "name": "compact history",
            "base": {
                "train": {"epochs": EPOCHS, "snapshot_every": 5},
                "data": {"n_train": 60},
                "model": {"hidden": [16, 8]},
            },
            "variants": [{"name": "none", "override": {}}, {"name": "l2", "override": {}}],
        }
    )
    return server.wait_finished(created["id"])


def named(value: float) -> float | str:
    """A number as the full answer writes it: non-finite ones by name."""
    return value if math.isfinite(value) else nonfinite_name(value)


def f32(values: list[Any]) -> list[Any]:
    return [v if isinstance(v, str) or v is None else float(np.float32(v)) for v in values]


def test_the_compact_history_holds_every_stored_number_and_some_gradient_norms(
    server: LiveServer, finished: dict[str, Any]
) -> None:
    path = f"/api/experiments/{finished['id']}/metrics"
    full = server.http.get(path).json()
    compact = server.http.get(f"{path}?compact=true").json()
    assert compact["cursor"] == full["cursor"]
    assert {"train_loss", "val_loss", "weight_l2", "step_size", "grad_norms"} <= set(
        compact["float32"]
    )
    assert "seconds" not in compact["float32"]  # wall-clock times are doubles: sent as stored
    for run_id, columns in full["runs"].items():
        short = compact["runs"][run_id]
        assert short["epoch"] == columns["epoch"] == list(range(1, EPOCHS + 1))
        for name, values in columns.items():
            if name in ("epoch", "grad_norms"):
                continue
            single = name in compact["float32"]
            if isinstance(short[name], str):  # binary: the stored numbers' own bytes
                raw = np.frombuffer(base64.b64decode(short[name]), "<f4" if single else "<f8")
                assert [named(v) for v in raw.astype(np.float64).tolist()] == values, name
            elif single:
                assert f32(short[name]) == values, name  # float32(written) is the stored number
            else:
                assert short[name] == values, name
        assert short["grad_epoch"] == [GRAD_NORMS_EVERY, 2 * GRAD_NORMS_EVERY, EPOCHS]
        assert [f32(g) for g in short["grad_norms"]] == [
            columns["grad_norms"][e - 1] for e in short["grad_epoch"]
        ]
    assert len(server.http.get(f"{path}?compact=true").content) < len(server.http.get(path).content)


def test_large_answers_are_gzipped_for_clients_that_ask_and_small_ones_are_not(
    server: LiveServer, finished: dict[str, Any]
) -> None:
    path = f"/api/experiments/{finished['id']}/metrics?compact=true"
    with httpx.Client(base_url=server.url) as raw:
        plain = raw.get(path, headers={"Accept-Encoding": "identity"})
        packed = raw.stream("GET", path, headers={"Accept-Encoding": "gzip"})
        with packed as response:
            body = b"".join(response.iter_raw())
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["content-security-policy"]  # the headers still on it
        assert "content-encoding" not in plain.headers
        assert gzip.decompress(body) == plain.content
        assert len(body) < len(plain.content) / 2
        health = raw.get("/api/health", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in health.headers
        for export in ("export.csv", "export.json"):
            url = f"/api/experiments/{finished['id']}/{export}"
            zipped = raw.get(url, headers={"Accept-Encoding": "gzip"})
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.content == raw.get(url, headers={"Accept-Encoding": "identity"}).content


def test_the_stream_after_the_compact_historys_cursor_holds_nothing_it_had(
    server: LiveServer, finished: dict[str, Any]
) -> None:
    compact = server.http.get(f"/api/experiments/{finished['id']}/metrics?compact=true").json()
    ids = {r["id"] for r in finished["runs"]}
    everything = collect(server, finished["id"], ids)
    assert compact["cursor"] == max(m["cursor"] for m in everything)
