"""What an experiment is: a base run and its variants (or a grid of one or two fields),
repeated, and how it expands into the runs it asks for, each override checked where it sits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from pydantic import Field, ValidationError, model_validator

from reglab.errors import SpecError, sentence
from reglab.spec.run import (
    MAX_CLAIMS,
    MAX_MEMBER_EPOCHS,
    MAX_MEMBERS,
    MAX_REPEATS,
    RunSpec,
    _Spec,
)


class Variant(_Spec):
    """A named change to the base: a partial RunSpec, e.g. {"regularization": {"l2": 0.01}}."""

    name: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[\w .:+=\-]+$",
        description="Label of the run in charts and tables.",
    )
    override: dict[str, Any] = Field(
        default_factory=dict, description="Fields that differ from the base, nested as in RunSpec."
    )


class GridAxis(_Spec):
    """One field swept over a list of values, e.g. regularization.dropout over [0, 0.2, 0.5]."""

    field: str = Field(
        pattern=r"^[a-z_]+\.[a-z_0-9]+$",
        description="Dotted path into RunSpec, e.g. regularization.l2.",
    )
    values: list[Any] = Field(min_length=1, max_length=16, description="Values to try.")


class Planned(NamedTuple):
    """One run an experiment asks for: replicate r (of R) of a variant, and its full spec."""

    variant: str
    replicate: int
    repeats: int
    spec: RunSpec

    @property
    def name(self) -> str:
        """The run's label: the variant's name, with the replicate's number when repeated."""
        return self.variant if self.repeats == 1 else f"{self.variant} #{self.replicate + 1}"


class ExperimentSpec(_Spec):
    """A comparison: a base run and its variants (or a grid of one or two fields), repeated."""

    name: str = Field("comparison", min_length=1, max_length=80)
    description: str = Field("", max_length=2000)
    lesson: str | None = Field(None, description="The lesson this experiment came from, if any.")
    base: RunSpec = Field(default_factory=RunSpec)
    variants: list[Variant] = Field(default_factory=list, max_length=MAX_MEMBERS)
    grid: list[GridAxis] = Field(default_factory=list, max_length=2)
    repeats: int = Field(
        1,
        ge=1,
        le=MAX_REPEATS,
        description="Times each variant is trained, each replicate with its own initial weights, "
        "batch order and dropout masks on the same data split (count).",
    )
    reference: str | None = Field(
        None,
        max_length=40,
        description="The variant every other one is compared against; default: 'none' if there "
        "is one, else the first.",
    )
    claims: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list,
        max_length=MAX_CLAIMS,
        description="What a student should see (sentences shown next to the verdicts).",
    )

    @model_validator(mode="after")
    def _runs_are_valid(self) -> ExperimentSpec:
        runs = self.runs()  # raises with a precise location when an override is wrong
        total_runs = len(runs) * self.repeats
        if total_runs > MAX_MEMBERS:
            where = ("repeats",) if self.repeats > 1 else ("grid",) if self.grid else ("variants",)
            msg = (
                f"{len(runs)} variants × {self.repeats} repeats = {total_runs} runs in one "
                f"experiment; the limit is {MAX_MEMBERS}."
                if self.repeats > 1
                else f"{len(runs)} runs in one experiment; the limit is {MAX_MEMBERS}."
            )
            raise SpecError(where, msg)
        total = sum(spec.train.epochs for _, spec in runs) * self.repeats
        if total > MAX_MEMBER_EPOCHS:
            raise SpecError(
                ("base", "train", "epochs"),
                f"{total} epochs over all runs; the limit is {MAX_MEMBER_EPOCHS}. "
                "Use fewer variants, repeats or epochs.",
            )
        names = [name for name, _ in runs]
        if self.reference is not None and self.reference not in names:
            raise SpecError(
                ("reference",),
                f"reference {self.reference!r} is not one of the variants: {', '.join(names)}.",
            )
        return self

    def reference_name(self, names: list[str] | None = None) -> str:
        """The variant the others are compared against: as named, else 'none', else the first.

        `names`: the variants' names when the caller has already worked them out.
        """
        if self.reference is not None:
            return self.reference
        if names is None:
            names = [name for name, _ in self.runs()]
        return "none" if "none" in names else names[0]

    def members(self) -> list[Planned]:
        """Every run to train: each variant's replicates 0..R-1, variant by variant."""
        return [
            Planned(variant, r, self.repeats, spec.replicate(r))
            for variant, spec in self.runs()
            for r in range(self.repeats)
        ]

    def runs(self) -> list[tuple[str, RunSpec]]:
        """The (name, spec) of every run, in order: the variants, else the grid, else the base."""
        if self.variants and self.grid:
            raise SpecError(("variants",), "give variants or a grid, not both.")
        named: list[tuple[str, dict[str, Any]]]
        if self.variants:
            names = [v.name for v in self.variants]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise SpecError(
                    ("variants",), f"variant names must be unique; repeated: {', '.join(dupes)}."
                )
            named = [(v.name, v.override) for v in self.variants]
        elif self.grid:
            named = [("", {})]
            for axis in self.grid:
                section, key = axis.field.split(".", 1)
                named = [
                    (f"{prefix} {key}={value}".strip(), _merge(over, {section: {key: value}}))
                    for prefix, over in named
                    for value in axis.values
                ]
        else:
            named = [("base", {})]
        base = self.base.model_dump()
        out = []
        for i, (name, override) in enumerate(named):
            out.append((name, _apply(base, override, self._where(i))))
        return out

    def _where(self, index: int) -> Callable[[tuple[str | int, ...]], tuple[str | int, ...]]:
        """Where a field of run `index`'s override sits in this spec: its variant or grid axis."""
        if self.variants:
            return lambda loc: ("variants", index, "override", *loc)
        axes = [axis.field for axis in self.grid]

        def axis(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
            field = ".".join(str(p) for p in loc[:2])
            return ("grid", axes.index(field), "values") if field in axes else ("grid",)

        return axis


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply(
    base: dict[str, Any],
    override: dict[str, Any],
    where: Callable[[tuple[str | int, ...]], tuple[str | int, ...]],
) -> RunSpec:
    """The base with `override` merged in; a SpecError placed by `where` when it is invalid."""
    try:
        return RunSpec.model_validate(_merge(base, override))
    except ValidationError as exc:
        err = exc.errors()[0]
        inner = err.get("ctx", {}).get("error")
        if isinstance(inner, SpecError):
            raise SpecError(where((*err["loc"], *inner.loc)), inner.msg) from None
        raise SpecError(where(tuple(err["loc"])), sentence(err)) from None
