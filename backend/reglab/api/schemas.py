"""What the API sends back: one read model per resource, built from the store's records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from reglab import compare, diagnosis
from reglab.spec import ExperimentSpec
from reglab.store.records import ExperimentRecord, RunRecord

T = TypeVar("T")


class _Read(BaseModel):
    # NaN/±Inf survive as floats here; the response class writes them as "NaN", "Infinity"…
    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings")


class Remedy(BaseModel):
    """A variant to try: its name and its override of the run's spec."""

    name: str
    override: dict[str, Any]


class Diagnosis(BaseModel):
    """Where the lecture's recipe puts a finished run (diagnosis.py), worked out when read."""

    branch: str  # training | overfitting | fine
    cause: str | None  # vanishing-gradients | learning-rate | plateau | None
    sentence: str
    numbers: dict[str, float]
    lesson: str | None
    remedies: list[Remedy]


class RunRead(_Read):
    """One run: its spec, where it stands, its summary once it has one, and its diagnosis."""

    id: int
    experiment_id: int
    position: int
    name: str
    variant: str
    replicate: int
    shared_from: int | None
    owner: str
    status: str
    message: str | None
    spec: dict[str, Any]
    epochs: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] | None
    diagnosis: Diagnosis | None = None

    @model_validator(mode="before")
    @classmethod
    def _diagnosed(cls, data: Any) -> Any:
        """A store record gains its diagnosis, worked out from its summary."""
        if not isinstance(data, RunRecord):
            return data
        fields = {name: getattr(data, name) for name in cls.model_fields if name != "diagnosis"}
        found = diagnosis.diagnose(data.status, data.summary, data.spec)
        return fields | {"diagnosis": found}


class Stats(BaseModel):
    """A metric over a variant's finished replicates (sd: sample sd, 0 for one replicate)."""

    mean: float
    sd: float
    min: float
    max: float


class Aggregate(BaseModel):
    """One variant over its replicates; `value` is its swept value when the variants sweep one."""

    variant: str
    value: float | None
    runs: int
    n: int
    finished: bool
    best_val_loss: Stats | None
    final_val_loss: Stats | None
    final_train_loss: Stats | None
    gap: Stats | None
    test_acc: Stats | None
    sparsity: Stats | None


class Comparison(BaseModel):
    """variant − reference on one metric, paired by replicate: mean, 95 % interval, verdict."""

    variant: str
    reference: str
    metric: str
    n: int
    lower: int
    mean_diff: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str


class Sweep(BaseModel):
    """The one numeric field the variants differ in, and its values in variant order."""

    field: str
    values: list[float]
    log: bool


class ExperimentRead(_Read):
    """An experiment with its runs (statuses and summaries) and what its replicates add up to."""

    id: int
    name: str
    description: str
    lesson: str | None
    owner: str
    status: str
    spec: dict[str, Any]
    created_at: datetime
    runs: list[RunRead]
    repeats: int
    reference: str
    claims: list[str]
    sweep: Sweep | None
    aggregates: list[Aggregate]
    comparisons: list[Comparison]
    # The challenge it is an entry (role "entry") or the baselines ("baselines") of; else null.
    challenge_id: int | None = None
    challenge_role: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _summed_up(cls, data: Any) -> Any:
        """A store record gains its aggregates, verdicts and sweep, worked out from its runs."""
        if not isinstance(data, ExperimentRecord):
            return data
        spec = ExperimentSpec.model_validate(data.spec)
        return {
            **{name: getattr(data, name) for name in ("id", "name", "description", "lesson")},
            **{name: getattr(data, name) for name in ("owner", "status", "spec", "created_at")},
            "runs": data.runs,
            "challenge_id": data.challenge_id,
            "challenge_role": data.challenge_role,
            "repeats": spec.repeats,
            "claims": spec.claims,
            **compare.summarize(spec, data.runs),
        }


class ChallengeRead(BaseModel):
    """A challenge: its task, open fields, budget, where it stands, and the caller's entries
    left (null for a caller without a name)."""

    id: int
    title: str
    description: str
    lesson: str | None
    owner: str
    base: dict[str, Any]
    open: list[str]
    repeats: int
    max_entries: int
    max_epochs: int
    metric: str
    public_test: int
    private_test: int
    status: str
    created_at: datetime
    closed_at: datetime | None
    revealed_at: datetime | None
    entries_left: int | None = None


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


class Statuses(BaseModel):
    """The run statuses in order, and the final ones: the page's one copy of that fact."""

    statuses: list[str]
    final: list[str]


class Metric(BaseModel):
    """A per-epoch metric: `name` is its key in epoch events and metric rows; `per_layer`: a
    list, one number per weight layer; `optional`: null where it does not apply."""

    name: str
    meaning: str
    per_layer: bool
    optional: bool


class Metrics(BaseModel):
    """The per-epoch metrics in order: what the page may chart, from their one declaration."""

    metrics: list[Metric]


class Cancelled(BaseModel):
    """Which runs a cancel request reached (they stop at their next step)."""

    cancelled: list[int]
