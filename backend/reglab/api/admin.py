"""/api/admin: what only the teacher's admin token may do to everyone's work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from reglab.api.deps import ADMIN_HEADER, CallerDep, RuntimeDep
from reglab.api.schemas import Cancelled
from reglab.errors import Forbidden

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/cancel-all", status_code=status.HTTP_202_ACCEPTED, response_model=Cancelled)
def cancel_everything(caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Cancel every queued and running run of every user (needs the admin token)."""
    if not runtime.settings.admin_token:
        raise Forbidden(
            "This server has no admin token; set REGLAB_ADMIN_TOKEN and restart to use it."
        )
    if not caller.admin:
        raise Forbidden(f"Cancelling everyone's runs needs the admin token in {ADMIN_HEADER}.")
    return {"cancelled": runtime.scheduler.cancel_all()}
