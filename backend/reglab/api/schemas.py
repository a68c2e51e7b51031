"""What the API sends back: one read model per resource, built from the store's records.

A run and a challenge are served as their records (pydantic dataclasses over them), so each
field is written once, in store/records.py or store/challenges.py; a read adds only what is
worked out when read.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic.dataclasses import dataclass

from reglab import compare, diagnosis
from reglab.spec import ExperimentSpec
from reglab.store.challenges import ChallengeRecord
from reglab.store.records import ExperimentRecord, RunRecord

T = TypeVar("T")


# NaN/±Inf survive as floats here; the response class writes them as "NaN", "Infinity"…
_SERVED = ConfigDict(from_attributes=True, ser_json_inf_nan="strings")


class _Read(BaseModel):
    model_config = _SERVED


def _fields_of(record: Any) -> dict[str, Any]:
    """A store record's fields by name: a shallow asdict (nested records stay records)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


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


@dataclass(frozen=True, config=_SERVED)
class RunRead(RunRecord):
    """One run: the store's record of it (its spec, where it stands, its summary once it has
    one, the run whose numbers it shares), and its diagnosis, worked out when read."""

    # Which computation it is: the store's business (reglab/sharing.py), not the reader's.
    fingerprint: str | None = Field(exclude=True, kw_only=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def diagnosis(self) -> Diagnosis | None:
        found = diagnosis.diagnose(self.status, self.summary, self.spec)
        return None if found is None else Diagnosis.model_validate(found)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        return _fields_of(data) if type(data) is RunRecord else data


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


@dataclass(frozen=True, config=_SERVED)
class ChallengeRead(ChallengeRecord):
    """A challenge: the store's record of it (its task, open fields, budget), the sizes of its
    two test splits, where it stands, and the caller's entries left (null for a caller without
    a name)."""

    entries_left: int | None = None

    @classmethod
    def of(cls, challenge: ChallengeRecord, *, entries_left: int | None) -> ChallengeRead:
        return cls(**_fields_of(challenge), entries_left=entries_left)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def public_test(self) -> int:
        return int(self.base["data"]["public_test"])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def private_test(self) -> int:
        return int(self.base["data"]["private_test"])

    # The record's property, served: open, closed or revealed.
    status = computed_field(ChallengeRecord.status)


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
