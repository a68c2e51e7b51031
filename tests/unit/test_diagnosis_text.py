"""The page says a run's diagnosis from its fields: in English, word for word the API's sentence."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from reglab.api.meta import statuses
from reglab.diagnosis import diagnose

ROOT = Path(__file__).resolve().parents[2]
SAY = """
import { readFileSync } from "node:fs";
import { interpolate } from "./frontend/i18n.js";
import { diagnosisText, pyG } from "./frontend/views/diagnosis-text.js";
import { setStatuses } from "./frontend/statuses.js";
setStatuses(JSON.parse(process.argv[3])); // as the page does with GET /api/statuses
const words = JSON.parse(readFileSync(`./frontend/i18n/${process.argv[1]}.json`, "utf8"));
const t = (key, values) => {
  if (!(key in words)) throw new Error(`no ${key}`);
  return interpolate(words[key], values);
};
const { cases, floats } = JSON.parse(process.argv[2]);
console.log(JSON.stringify({
  said: cases.map(([d, run]) => diagnosisText(d, run, t)),
  floats: floats.map((x) => pyG(x)),
}));
"""

BASELINE = 0.69  # ln 2: the know-nothing loss of two balanced classes


def run(
    train: float,
    val: float,
    best: float,
    *,
    status: str = "completed",
    weights: str | None = None,
    lr: float | None = 0.1,
    **trace: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A finished run's diagnosis as the API sends it, and the run the page holds (status, spec)."""
    numbers = {
        "baseline_loss": BASELINE,
        "grad_ratio": 0.5,
        "step_early": 1.0,
        "step_late": 1.0,
        "early_train_loss": 0.3,
    } | trace
    extra: dict[str, Any] = {"trace": numbers}
    if weights:
        extra["weights"] = weights
    summary = {
        "final_train_loss": train,
        "final_val_loss": val,
        "best_val_loss": best,
        "extra": extra,
    }
    spec = {"optimizer": {} if lr is None else {"lr": lr}}
    found = diagnose(status, summary, spec)
    assert found is not None
    return found, {"status": status, "spec": spec}


# One run for each sentence diagnosis.py writes (each branch, each cause, each variant of them).
CASES = {
    "vanishing gradients": run(0.68, 0.7, 0.69, grad_ratio=0.00021),
    "a dying step": run(0.6, 0.62, 0.6, step_late=0.17),
    "a plateau": run(0.66, 0.67, 0.66, early_train_loss=0.68),
    "no one cause": run(0.5, 0.52, 0.5),
    "diverged": run(0.7, 0.7, 0.69, status="diverged", lr=0.5),
    "diverged, no rate": run(0.7, 0.7, 0.69, status="diverged", lr=None),
    "overfitting by its own lowest": run(0.05, 0.8, 0.3),
    "overfitting by the gap": run(0.01, 0.5, 0.45),
    "early-stopped, overfitting by the gap": run(
        0.005, 0.9, 0.5, weights="best", train_loss_at_best=0.01
    ),
    "fine": run(0.1, 0.2, 0.19),
    "fine, unsteady": run(0.1, 0.3, 0.2, train_loss_at_best=0.05),
    "fine with tiny losses": run(1.23e-05, 0.000205, 0.0002),
}


def said(lang: str, cases: list[Any], floats: list[float]) -> dict[str, list[str]]:
    """frontend/views/diagnosis-text.js's words for each case, run by node as the page runs it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("This test needs node >= 18 (`sudo apt-get install -y nodejs`).", pytrace=False)
    given = json.dumps({"cases": cases, "floats": floats})
    out = subprocess.run(
        [node, "--input-type=module", "-e", SAY, lang, given, json.dumps(statuses())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, list[str]] = json.loads(out.stdout)
    return result


def test_the_cases_cover_every_branch_and_cause_the_api_gives() -> None:
    kinds = {(d["branch"], d["cause"]) for d, _ in CASES.values()}
    assert kinds == {
        ("training", "vanishing-gradients"),
        ("training", "learning-rate"),
        ("training", "plateau"),
        ("training", None),
        ("overfitting", None),
        ("fine", None),
    }


def test_in_english_the_page_says_each_diagnosis_word_for_word_as_the_api() -> None:
    out = said("en", list(CASES.values()), [])
    for name, (d, _), text in zip(CASES, CASES.values(), out["said"], strict=True):
        assert text == d["sentence"], name


@pytest.mark.parametrize("lang", ["zh-TW", "zh-CN"])
def test_in_chinese_the_page_says_each_diagnosis_with_the_apis_numbers(lang: str) -> None:
    out = said(lang, list(CASES.values()), [])
    for name, (d, _), text in zip(CASES, CASES.values(), out["said"], strict=True):
        assert text != d["sentence"] and "{" not in text, name
        assert not any(word in text for word in (" the ", " is ", " of ")), (name, text)
    # The numbers are the API's, written as it writes them.
    assert "0.68" in out["said"][0] and "4762" in out["said"][0]
    assert "17%" in out["said"][1]
    assert "（0.5）" in out["said"][4] and "（" not in out["said"][5]


def test_numbers_are_written_as_pythons_3g_writes_them() -> None:
    rng = random.Random(3)
    floats = [0.5, 1000.0, 1234.5, 1e-05, 0.000123456, 99.95, 0.00009996, 12.0]
    floats += [rng.uniform(-1, 1) * 10 ** rng.randint(-7, 7) for _ in range(300)]
    out = said("en", [], floats)
    assert out["floats"] == [f"{x:.3g}" for x in floats]
