"""/api/admin: the teacher's sign-in, and what only the teacher may do to everyone's work."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from reglab.api.deps import ADMIN_COOKIE, CallerDep, RuntimeDep, SessionsDep, require_admin
from reglab.api.schemas import Cancelled
from reglab.errors import Forbidden

router = APIRouter(prefix="/api/admin", tags=["admin"])
# A teacher's session lasts a school day; signing in again costs one form.
SESSION_SECONDS = 12 * 3600


class SignIn(BaseModel):
    """The admin token, typed once into the class page (never kept by the page)."""

    token: str = Field(min_length=1, max_length=1000)


@router.post("/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_in(body: SignIn, runtime: RuntimeDep, sessions: SessionsDep, request: Request) -> Response:
    """Trade the admin token for an HttpOnly session cookie (204); a wrong token is 403."""
    token = runtime.settings.admin_token
    given = body.token.encode("utf-8")
    if not token or not hmac.compare_digest(given, token.encode("utf-8")):
        raise Forbidden("That is not this server's admin token.")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.set_cookie(
        ADMIN_COOKIE,
        sessions.open(),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


class SessionRead(BaseModel):
    teacher: bool


@router.get("/session", response_model=SessionRead)
def read_session(caller: CallerDep) -> Any:
    """Whether this browser is signed in as the teacher (the page cannot read its cookie)."""
    return {"teacher": caller.admin}


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(sessions: SessionsDep, request: Request) -> Response:
    """Forget this browser's session, here and in its cookie (204 whether or not it had one)."""
    sessions.close(request.cookies.get(ADMIN_COOKIE))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(ADMIN_COOKIE, httponly=True, samesite="strict")
    return response


@router.post("/cancel-all", status_code=status.HTTP_202_ACCEPTED, response_model=Cancelled)
def cancel_everything(caller: CallerDep, runtime: RuntimeDep) -> Any:
    """Cancel every queued and running run of every user (the teacher only)."""
    require_admin(caller, runtime.settings, "Cancelling everyone's runs")
    return {"cancelled": runtime.scheduler.cancel_all()}
