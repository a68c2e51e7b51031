"""`reglab run`: trains a lesson or a spec file headless and prints a table or JSON."""

import json
from pathlib import Path

from reglab.cli import app
from reglab.presets import get_lesson
from typer.testing import CliRunner

runner = CliRunner()


def test_run_lesson_as_json_reports_every_run() -> None:
    result = runner.invoke(app, ["run", "--lesson", "overfitting", "--epochs", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["lesson"] == "overfitting"
    # Every variant of the lesson, each as many times as the lesson repeats it.
    planned = get_lesson("overfitting").spec.members()
    assert [r["name"] for r in out["runs"]] == [p.name for p in planned]
    assert planned[0].variant == "none" and len(planned) == 6 * planned[0].repeats
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


def test_a_bare_run_spec_file_is_an_experiment_of_one_run(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"data": {"n_train": 40}, "model": {"hidden": [8]}}))
    result = runner.invoke(app, ["run", "--spec", str(path), "--epochs", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["experiment"] == "one"
    assert [(r["name"], r["epochs_run"]) for r in out["runs"]] == [("base", 2)]


def test_a_file_that_is_not_json_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{\n  'data': 1\n}")
    result = runner.invoke(app, ["run", "--spec", str(path)])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output and "line 2" in result.output
