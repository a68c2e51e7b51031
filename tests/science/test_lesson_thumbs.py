"""The gallery's committed thumbnails are what the lessons as shipped train to (seed setting 0).

Made from the runs the lesson claims train (science_runs.train_lesson, cached per process): in
one session with tests/science/test_lessons.py this trains nothing more.
"""

from __future__ import annotations

import json

import pytest
from reglab.presets import LESSONS
from reglab.thumbs import PATH, thumbnail
from science_runs import train_lesson


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("lesson", list(LESSONS))
def test_the_committed_thumbnail_is_the_lessons_own_result_at_seed_setting_0(lesson: str) -> None:
    runs = {
        variant: [(run.epochs, run.summary) for run in reps]
        for variant, reps in train_lesson(lesson, 0).variants.items()
    }
    made = thumbnail(lesson, runs)  # type: ignore[arg-type]
    committed = json.loads(PATH.read_text())[lesson]
    assert made.keys() == committed.keys()
    # Same training, same numbers: up to the 3 digits kept, and a little float drift between
    # machines (a 2 % tolerance on each point, 0.005 absolute near zero).
    for key, value in committed.items():
        if isinstance(value, dict):
            for variant, curve in value.items():
                assert made[key][variant] == pytest.approx(curve, rel=0.02, abs=0.005), variant
        elif isinstance(value, list) and value and isinstance(value[0], float):
            assert made[key] == pytest.approx(value, rel=0.02, abs=0.005), key
        else:
            assert made[key] == value, key
