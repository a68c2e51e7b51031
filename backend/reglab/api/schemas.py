"""What the API sends back: one read model per resource, built from the store's records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class _Read(BaseModel):
    # NaN/±Inf survive as floats here; the response class writes them as "NaN", "Infinity"…
    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings")


class RunRead(_Read):
    """One run: its spec, where it stands, and its summary once it has one."""

    id: int
    experiment_id: int
    position: int
    name: str
    variant: str
    replicate: int
    owner: str
    status: str
    message: str | None
    spec: dict[str, Any]
    epochs: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] | None


class ExperimentRead(_Read):
    """An experiment with all its runs (statuses and summaries)."""

    id: int
    name: str
    description: str
    lesson: str | None
    owner: str
    status: str
    spec: dict[str, Any]
    created_at: datetime
    runs: list[RunRead]


class Page(BaseModel, Generic[T]):
    """One page of a list: `items`, and `total` matching the filter."""

    items: list[T]
    total: int
    offset: int
    limit: int


class Lesson(BaseModel):
    """A named experiment from the lecture, ready to submit as {"lesson": name}."""

    name: str
    title: str
    description: str
    spec: dict[str, Any]


class Health(BaseModel):
    status: str
    executor: str
    workers: int
    workers_ready: int | None
    pending_groups: int
    running_groups: int


class Cancelled(BaseModel):
    """Which runs a cancel request reached (they stop at their next step)."""

    cancelled: list[int]
