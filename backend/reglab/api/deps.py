"""Request dependencies: the runtime, the caller's name, and the resources a path names."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError

from reglab.config import Settings
from reglab.errors import Forbidden
from reglab.jobs.runtime import Runtime
from reglab.store.records import ExperimentRecord, RunRecord

USER_HEADER = "X-Reglab-User"
ADMIN_HEADER = "X-Reglab-Admin"
# Letters of any script, digits, space and a few marks; browsers send non-Latin names
# percent-encoded, since HTTP headers are Latin-1.
_NAME = re.compile(r"^[\w .@'\-]{1,40}$")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_owner(
    x_reglab_user: Annotated[str | None, Header(alias=USER_HEADER)] = None,
) -> str:
    """The caller's display name (no passwords: this is a classroom); "anonymous" if unsent."""
    if x_reglab_user is None or not x_reglab_user.strip():
        return "anonymous"
    name = unquote(x_reglab_user).strip()
    if not _NAME.match(name):
        raise RequestValidationError(
            [
                {
                    "loc": ("header", USER_HEADER),
                    "msg": "a display name is 1 to 40 letters, digits, spaces or . @ ' -",
                    "type": "value_error",
                }
            ]
        )
    return name


OwnerDep = Annotated[str, Depends(get_owner)]


def get_admin(
    x_reglab_admin: Annotated[str | None, Header(alias=ADMIN_HEADER)] = None,
) -> str | None:
    return x_reglab_admin


AdminDep = Annotated[str | None, Depends(get_admin)]


def is_admin(admin: str | None, settings: Settings) -> bool:
    """Whether the caller sent the admin token (never true when the server has none).

    Compared as bytes: a header arrives as Latin-1 text, and compare_digest refuses non-ASCII str.
    """
    token = settings.admin_token
    if not token or admin is None:
        return False
    return hmac.compare_digest(admin.encode("latin-1"), token.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the request: a display name, and whether the admin token came with it."""

    name: str
    admin: bool

    def may_change(self, owner: str, what: str, action: str) -> None:
        """Let the owner, or an admin, change what belongs to the owner; refuse anyone else."""
        if self.name != owner and not self.admin:
            raise Forbidden(
                f"{what} belongs to {owner}; only they (or an admin, with the {ADMIN_HEADER} "
                f"token) may {action} it."
            )


def get_caller(owner: OwnerDep, admin: AdminDep, runtime: RuntimeDep) -> Caller:
    return Caller(owner, is_admin(admin, runtime.settings))


CallerDep = Annotated[Caller, Depends(get_caller)]


# The largest integer the store holds (SQLite's INTEGER, PostgreSQL's BIGINT): ids and offsets
# beyond it are 422 before they reach a query.
MAX_STORED_INT = 2**63 - 1
RunId = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="A run's id.")]
ExperimentId = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="An experiment's id.")]


def run_or_404(run_id: RunId, runtime: RuntimeDep) -> RunRecord:
    return runtime.store.get_run(run_id)  # raises NotFound → 404


def experiment_or_404(experiment_id: ExperimentId, runtime: RuntimeDep) -> ExperimentRecord:
    return runtime.store.get_experiment(experiment_id)  # raises NotFound → 404


RunDep = Annotated[RunRecord, Depends(run_or_404)]
ExperimentDep = Annotated[ExperimentRecord, Depends(experiment_or_404)]
