"""Repeats through the real service: per-variant aggregates and paired verdicts, checked against
numbers this test works out itself (numpy, scipy) from the stored per-run rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from api.conftest import LiveServer, collect

REPEATS = 4
SPEC: dict[str, Any] = {
    "name": "repeats",
    "repeats": REPEATS,
    "base": {
        "data": {"kind": "moons", "n_train": 60, "noise": 0.3},
        "model": {"hidden": [16, 16]},
        "train": {"epochs": 8, "batch_size": 10, "snapshot_every": 8},
    },
    "variants": [
        {"name": "none"},
        {"name": "l2", "override": {"regularization": {"l2": 0.05}}},
        {"name": "dropout", "override": {"regularization": {"dropout": 0.3}}},
    ],
}


@pytest.fixture(scope="module")
def finished(server: LiveServer) -> dict[str, Any]:
    created = server.submit(SPEC)
    return server.wait_finished(created["id"])


def test_each_variant_trains_r_replicates_with_paired_seeds(finished: dict[str, Any]) -> None:
    runs = finished["runs"]
    assert finished["repeats"] == REPEATS and finished["reference"] == "none"
    assert [(r["variant"], r["replicate"]) for r in runs] == [
        (v, r) for v in ("none", "l2", "dropout") for r in range(REPEATS)
    ]
    assert all(r["status"] == "completed" for r in runs)
    seeds = {(r["variant"], r["replicate"]): r["spec"]["model"]["init_seed"] for r in runs}
    for r in range(REPEATS):
        assert seeds["none", r] == seeds["l2", r] == seeds["dropout", r]
    assert len({seeds["none", r] for r in range(REPEATS)}) == REPEATS
    # Replicates really differ: four seeds, four different results.
    finals = {r["summary"]["final_val_loss"] for r in runs if r["variant"] == "none"}
    assert len(finals) == REPEATS


def test_aggregates_are_the_replicates_mean_sd_min_and_max(finished: dict[str, Any]) -> None:
    by_variant = {a["variant"]: a for a in finished["aggregates"]}
    assert list(by_variant) == ["none", "l2", "dropout"]
    for variant, agg in by_variant.items():
        rows = [r["summary"] for r in finished["runs"] if r["variant"] == variant]
        assert agg["runs"] == agg["n"] == REPEATS and agg["finished"]
        for metric in ("best_val_loss", "final_val_loss", "final_train_loss", "gap", "test_acc"):
            values = np.array([row[metric] for row in rows], dtype=np.float64)
            got = agg[metric]
            assert got["mean"] == pytest.approx(values.mean(), rel=1e-12)
            assert got["sd"] == pytest.approx(values.std(ddof=1), rel=1e-9)
            assert (got["min"], got["max"]) == (values.min(), values.max())


def test_paired_verdicts_match_an_independent_t_interval(finished: dict[str, Any]) -> None:
    runs = finished["runs"]
    checked = 0
    for comp in finished["comparisons"]:
        metric, variant = comp["metric"], comp["variant"]
        assert comp["reference"] == "none"
        mine = {r["replicate"]: r["summary"][metric] for r in runs if r["variant"] == variant}
        base = {r["replicate"]: r["summary"][metric] for r in runs if r["variant"] == "none"}
        diffs = np.array([mine[r] - base[r] for r in range(REPEATS)], dtype=np.float64)
        low, high = stats.t.interval(0.95, df=REPEATS - 1, loc=diffs.mean(), scale=stats.sem(diffs))
        assert comp["n"] == REPEATS
        assert comp["lower"] == int((diffs < 0).sum())
        assert comp["mean_diff"] == pytest.approx(diffs.mean(), rel=1e-9)
        assert comp["ci_low"] == pytest.approx(low, rel=1e-3)  # t from a 3-decimal table
        assert comp["ci_high"] == pytest.approx(high, rel=1e-3)
        if high < 0:
            assert f"in {comp['lower']}/{REPEATS} seeds" in comp["verdict"]
            assert "below" in comp["verdict"] or "lower best" in comp["verdict"]
        elif low > 0:
            assert "above" in comp["verdict"] or "higher best" in comp["verdict"]
        else:
            assert comp["verdict"].startswith("no clear difference from none")
        checked += 1
    assert checked == 2 * 2  # two variants × (final, best) validation loss


def test_exports_carry_the_aggregates_and_each_runs_replicate(
    server: LiveServer, finished: dict[str, Any]
) -> None:
    body = server.http.get(f"/api/experiments/{finished['id']}/export.json").json()
    assert body["experiment"]["aggregates"] == finished["aggregates"]
    assert body["experiment"]["comparisons"] == finished["comparisons"]
    csv = server.http.get(f"/api/experiments/{finished['id']}/export.csv").text
    header = csv.splitlines()[0].split(",")
    assert header[:4] == ["experiment_id", "run_name", "variant", "replicate"]
    assert any(line.split(",")[2:4] == ["dropout", "3"] for line in csv.splitlines()[1:])


def test_history_in_columns_matches_each_runs_rows_and_ends_at_the_streams_cursor(
    server: LiveServer, finished: dict[str, Any]
) -> None:
    body = server.http.get(f"/api/experiments/{finished['id']}/metrics").json()
    assert body["experiment_id"] == finished["id"]
    assert set(body["runs"]) == {str(r["id"]) for r in finished["runs"]}
    for run in finished["runs"]:
        rows = server.http.get(f"/api/runs/{run['id']}/metrics").json()
        columns = body["runs"][str(run["id"])]
        assert columns["epoch"] == [r["epoch"] for r in rows] == list(range(1, 9))
        for name in ("train_loss", "val_loss", "val_acc", "step_size", "grad_norms"):
            assert columns[name] == [r[name] for r in rows]
    ids = {r["id"] for r in finished["runs"]}
    messages = collect(server, finished["id"], ids)
    assert body["cursor"] == max(m["cursor"] for m in messages)
