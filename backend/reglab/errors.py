"""Domain errors: raised below the API, mapped to HTTP statuses in one place (api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ReglabError(Exception):
    """Base of every error a client can cause; `str(err)` is a sentence telling what to change."""


class NotFound(ReglabError):
    """The experiment, run or lesson asked for does not exist."""


class Conflict(ReglabError):
    """The request is valid but not in the current state (e.g. cancelling a finished run)."""


class Forbidden(ReglabError):
    """The caller may not do this (e.g. delete someone else's experiment)."""


class Unauthorized(ReglabError):
    """The request needs a name (and its token) the caller did not send."""


class QuotaExceeded(ReglabError):
    """The caller asks for more work than the server's per-user quotas allow right now."""


class SpecError(ValueError):
    """A spec that cannot run, with where in it the problem sits.

    `loc` is relative to the model that raised it (e.g. ("variants", 2, "override", "optimizer",
    "lr") inside an ExperimentSpec); pydantic keeps the error itself in the error's context, so
    the one error handler (api/errors.py) joins the two locations without reading the message.
    A ValueError, so pydantic reports it like any other failed check.
    """

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


def located(error: Mapping[str, Any]) -> tuple[tuple[str | int, ...], str]:
    """A pydantic error's full location and its sentence: a SpecError's own place appended."""
    loc = tuple(error.get("loc", ()))
    inner = (error.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        return (*loc, *inner.loc), inner.msg
    return loc, sentence(error)


def sentence(error: Mapping[str, Any]) -> str:
    """A pydantic error's message as a student reads it."""
    if error.get("type") == "finite_number":
        return "must be a finite number (not NaN or infinity)"
    return str(error.get("msg", "")).removeprefix("Value error, ")


class OverLimit(ReglabError):
    """The spec is valid but needs more than this server allows one group (memory, time,
    snapshots): 422, with `field` the spec field to change (e.g. "base.train.batch_size")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidEntry(OverLimit):
    """A request the spec's own checks cannot judge (a challenge's locked field, its epochs
    budget): 422 like OverLimit, naming the field."""
