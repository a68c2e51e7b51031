"""`reglab run`: trains a lesson or a spec file headless and prints a table or JSON."""

import json
from pathlib import Path

from reglab.cli import app
from typer.testing import CliRunner

runner = CliRunner()


def test_run_lesson_as_json_reports_every_run() -> None:
    result = runner.invoke(app, ["run", "--lesson", "overfitting", "--epochs", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["lesson"] == "overfitting"
    assert out["runs"][0]["name"] == "none"
    assert len(out["runs"]) == 6
    assert all(r["epochs_run"] == 3 and r["status"] == "completed" for r in out["runs"])


def test_run_prints_a_table_with_one_row_per_run(tmp_path: Path) -> None:
    spec = {
        "name": "tiny",
        "base": {"data": {"n_train": 40}, "model": {"hidden": [8]}, "train": {"epochs": 2}},
        "variants": [
            {"name": "plain", "override": {}},
            {"name": "wide", "override": {"model": {"hidden": [32]}}},
        ],
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(spec))
    result = runner.invoke(app, ["run", "--spec", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("run "))
    assert "best val" in lines[header] and "sparsity" in lines[header]
    rows = lines[header + 2 : header + 4]
    assert rows[0].startswith("plain") and rows[1].startswith("wide")
    assert all("completed" in row for row in rows)


def test_unknown_lesson_exits_2_with_the_valid_names() -> None:
    result = runner.invoke(app, ["run", "--lesson", "nope"])
    assert result.exit_code == 2
    assert "dropout-sweep" in result.output


def test_invalid_spec_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"base": {"model": {"hidden": [1000]}}}))
    result = runner.invoke(app, ["run", "--spec", str(path)])
    assert result.exit_code == 2
    assert "width 1000" in result.output
