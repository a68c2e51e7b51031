"""The gallery's committed thumbnails (frontend/lesson-thumbs.json) are those of today's lessons."""

from __future__ import annotations

import json

from reglab.presets import LESSONS
from reglab.thumbs import PATH, POINTS, fingerprint


def test_every_lesson_has_a_thumbnail_made_from_its_current_spec() -> None:
    thumbs = json.loads(PATH.read_text())
    assert set(thumbs) == set(LESSONS)
    stale = [name for name, thumb in thumbs.items() if thumb["fingerprint"] != fingerprint(name)]
    assert not stale, (
        f"lessons changed since their thumbnails were made (run `make thumbs`): {stale}"
    )


def test_the_thumbnails_stay_small_one_short_curve_per_variant() -> None:
    assert PATH.stat().st_size < 20_000
    for name, thumb in json.loads(PATH.read_text()).items():
        spec = LESSONS[name].spec
        if thumb["kind"] == "sweep":
            assert len(thumb["val_loss"]) == len(spec.grid[0].values)
        else:
            assert list(thumb["curves"]) == [v.name for v in spec.variants]
            assert all(len(c) <= POINTS for c in thumb["curves"].values())
