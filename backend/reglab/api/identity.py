"""/api/identity: a display name bound to the browser or client that chose it first.

No passwords (a classroom): the first request for a name gets its secret, as an HttpOnly cookie
for the page and a token for API clients. Submitting as, cancelling and deleting as that name need
the secret from then on; the teacher's admin token may reset a name, freeing it for a new secret.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, Field

from reglab.api.deps import (
    ANONYMOUS,
    NAME_PATTERN,
    TOKEN_COOKIE,
    TOKEN_HEADER,
    CallerDep,
    RuntimeDep,
    give_token,
    new_secret,
    require_admin,
    secret_hash,
    taken,
)
from reglab.errors import Conflict, NotFound

router = APIRouter(prefix="/api/identity", tags=["identity"])

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="A display name: 1 to 40 letters, digits, spaces or . @ ' -",
    ),
]


class NameRequest(BaseModel):
    """The name a browser or client asks for."""

    name: Name


class Identity(BaseModel):
    """A name and its secret: keep the token, send it as X-Reglab-Token."""

    name: str
    token: str


class WhoAmI(BaseModel):
    """Who the request's secret says the caller is (name null when it carries none)."""

    name: str | None
    verified: bool


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Identity)
def claim_name(
    body: NameRequest, caller: CallerDep, runtime: RuntimeDep, request: Request, response: Response
) -> Any:
    """Bind a free name to a new secret (201); 200 if the request already holds its secret."""
    name = body.name.strip()
    if name == ANONYMOUS:
        raise Conflict(f"{ANONYMOUS} is what callers without a name are called; choose another.")
    if caller.verified and caller.name == name:
        response.status_code = status.HTTP_200_OK
        presented = request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE)
        return {"name": name, "token": presented}
    secret = new_secret()
    if not runtime.store.bind_name(name, secret_hash(secret)):
        raise Conflict(taken(name))
    give_token(response, request, secret)
    return {"name": name, "token": secret}


@router.get("", response_model=WhoAmI)
def who_am_i(caller: CallerDep) -> Any:
    """The name this browser's cookie (or the X-Reglab-Token) is bound to, if any."""
    return {"name": caller.name if caller.verified else None, "verified": caller.verified}


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def reset_name(
    name: Annotated[str, Path(pattern=NAME_PATTERN)], caller: CallerDep, runtime: RuntimeDep
) -> Response:
    """Forget a name's secret, so that it can be chosen again (the admin token only)."""
    require_admin(caller, runtime.settings, "Resetting a name")
    if not runtime.store.unbind_name(name):
        raise NotFound(f"The name {name} has no secret to reset.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
