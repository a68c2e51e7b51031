"""Domain errors: raised below the API, mapped to HTTP statuses in one place (api/errors.py)."""

from __future__ import annotations


class ReglabError(Exception):
    """Base of every error a client can cause; `str(err)` is a sentence telling what to change."""


class NotFound(ReglabError):
    """The experiment, run or lesson asked for does not exist."""


class Conflict(ReglabError):
    """The request is valid but not in the current state (e.g. cancelling a finished run)."""


class Forbidden(ReglabError):
    """The caller may not do this (e.g. delete someone else's experiment)."""


class QuotaExceeded(ReglabError):
    """The caller asks for more work than the server's per-user quotas allow right now."""
