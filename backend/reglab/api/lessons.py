"""The lessons of reglab.presets, seen the way the API shows them."""

from __future__ import annotations

import importlib
from typing import Any

from reglab.api.schemas import Lesson
from reglab.spec import ExperimentSpec


def _catalogue() -> dict[str, Any]:
    # Imported on first use: the lessons module builds specs, which the app needs only then.
    lessons: dict[str, Any] = importlib.import_module("reglab.presets").LESSONS
    return lessons


def all_lessons() -> list[Lesson]:
    return [
        Lesson(
            name=name,
            title=lesson.title,
            description=lesson.description,
            spec=lesson.spec.model_dump(mode="json"),
        )
        for name, lesson in _catalogue().items()
    ]


def lesson_spec(name: str) -> ExperimentSpec | None:
    """The experiment a lesson runs, tagged with the lesson's name; None for an unknown name."""
    lesson = _catalogue().get(name)
    if lesson is None:
        return None
    spec: ExperimentSpec = lesson.spec
    return spec if spec.lesson == name else spec.model_copy(update={"lesson": name})


def lesson_names() -> list[str]:
    return list(_catalogue())
