"""Request dependencies: the runtime, the caller's name, and the resources a path names."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Path, Request, Response
from fastapi.exceptions import RequestValidationError

from reglab.api.history import CompactCache
from reglab.config import Settings
from reglab.errors import Forbidden
from reglab.jobs.runtime import Runtime
from reglab.store.records import ExperimentRecord, RunRecord

USER_HEADER = "X-Reglab-User"
ADMIN_HEADER = "X-Reglab-Admin"
TOKEN_HEADER = "X-Reglab-Token"
TOKEN_COOKIE = "reglab_token"
# The teacher's signed-in browser: a random session id (api/admin.py), never the token itself.
ADMIN_COOKIE = "reglab_admin"
ANONYMOUS = "anonymous"
# Letters of any script, digits, space and a few marks; browsers send non-Latin names
# percent-encoded, since HTTP headers are Latin-1.
NAME_PATTERN = r"^[\w .@'\-]{1,40}$"
_NAME = re.compile(NAME_PATTERN)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_histories(request: Request) -> CompactCache:
    histories: CompactCache = request.app.state.histories
    return histories


HistoriesDep = Annotated[CompactCache, Depends(get_histories)]


def claimed_name(
    x_reglab_user: Annotated[str | None, Header(alias=USER_HEADER)] = None,
) -> str | None:
    """The display name the caller says it has (no proof yet); None if unsent."""
    if x_reglab_user is None or not x_reglab_user.strip():
        return None
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
    return None if name == ANONYMOUS else name


def get_admin(
    x_reglab_admin: Annotated[str | None, Header(alias=ADMIN_HEADER)] = None,
) -> str | None:
    return x_reglab_admin


AdminDep = Annotated[str | None, Depends(get_admin)]


class AdminSessions:
    """The teacher's signed-in browsers: the SHA-256 of each session id, held by this process.

    The cookie holds a random id, not the admin token, and the server keeps only its hash: a
    signed-out (or stolen and revoked) cookie is refused at once. A restart signs everyone out.
    """

    def __init__(self) -> None:
        self._held: set[str] = set()

    def open(self) -> str:
        session = secrets.token_urlsafe(32)
        self._held.add(secret_hash(session))
        return session

    def holds(self, session: str | None) -> bool:
        return session is not None and secret_hash(session) in self._held

    def close(self, session: str | None) -> None:
        if session is not None:
            self._held.discard(secret_hash(session))


def get_sessions(request: Request) -> AdminSessions:
    sessions: AdminSessions = request.app.state.admin_sessions
    return sessions


SessionsDep = Annotated[AdminSessions, Depends(get_sessions)]


def is_signed_in(request: Request, sessions: AdminSessions, settings: Settings) -> bool:
    """Whether the request carries a teacher's session cookie (none counts while the server has
    no admin token)."""
    return bool(settings.admin_token) and sessions.holds(request.cookies.get(ADMIN_COOKIE))


def is_admin(admin: str | None, settings: Settings) -> bool:
    """Whether the caller sent the admin token (never true when the server has none).

    Compared as bytes: a header arrives as Latin-1 text, and compare_digest refuses non-ASCII str.
    """
    token = settings.admin_token
    if not token or admin is None:
        return False
    return hmac.compare_digest(admin.encode("latin-1"), token.encode("utf-8"))


def new_secret() -> str:
    """A fresh secret for a name: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What the store keeps of a secret (a leaked database gives no one's token away)."""
    return hashlib.sha256(secret.encode("latin-1", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the request: a display name, whether its secret came along, and admin or not."""

    name: str
    verified: bool
    admin: bool

    def may_change(self, owner: str, what: str, action: str) -> None:
        """Let the owner (with the name's secret), or an admin, change what is the owner's."""
        if self.admin or (self.verified and self.name == owner):
            return
        if self.name == owner:
            raise Forbidden(
                f"{what} belongs to {owner}; to {action} it, send {owner}'s token "
                f"({TOKEN_HEADER}, or the cookie of the browser that chose the name), or the "
                f"admin token in {ADMIN_HEADER}."
            )
        raise Forbidden(
            f"{what} belongs to {owner}; only they (or an admin, with the {ADMIN_HEADER} "
            f"token) may {action} it."
        )


def get_caller(
    request: Request,
    runtime: RuntimeDep,
    sessions: SessionsDep,
    name: Annotated[str | None, Depends(claimed_name)],
    admin: AdminDep,
    x_reglab_token: Annotated[str | None, Header(alias=TOKEN_HEADER)] = None,
) -> Caller:
    """The caller as its secret proves it; an unknown secret (e.g. reset) counts as none.

    The teacher is the admin token in its header, or a signed-in session's cookie."""
    is_teacher = is_admin(admin, runtime.settings) or is_signed_in(
        request, sessions, runtime.settings
    )
    secret = x_reglab_token or request.cookies.get(TOKEN_COOKIE)
    bound = runtime.store.name_of(secret_hash(secret)) if secret else None
    if bound is not None:
        seen(request).saw(bound)
    if bound is None:
        return Caller(name or ANONYMOUS, verified=False, admin=is_teacher)
    if name is not None and name != bound:
        raise Forbidden(
            f"This token belongs to {bound}, not {name}; send {bound} in {USER_HEADER} "
            "(or none), or choose your name again."
        )
    return Caller(bound, verified=True, admin=is_teacher)


CallerDep = Annotated[Caller, Depends(get_caller)]


class LastSeen:
    """When each bound name last made a request that identified it, since this process started
    (kept in memory: the store records no requests; the class page adds experiment creations)."""

    def __init__(self) -> None:
        self._at: dict[str, datetime] = {}

    def saw(self, name: str) -> None:
        self._at[name] = datetime.now(UTC)

    def get(self, name: str) -> datetime | None:
        return self._at.get(name)


def seen(request: Request) -> LastSeen:
    last: LastSeen = request.app.state.last_seen
    return last


SeenDep = Annotated[LastSeen, Depends(seen)]


def require_admin(caller: Caller, settings: Settings, what: str) -> None:
    """Let only the teacher through: the admin token's header, or the signed-in cookie."""
    if not settings.admin_token:
        raise Forbidden(
            "This server has no admin token; set REGLAB_ADMIN_TOKEN and restart to use it."
        )
    if not caller.admin:
        raise Forbidden(
            f"{what} needs the teacher: sign in on the class page, or send the admin token in "
            f"{ADMIN_HEADER}."
        )


@contextmanager
def submitting(
    caller: Caller, runtime: Runtime, request: Request, response: Response
) -> Iterator[str]:
    """The owner of a submission; a name's first use binds it to a new secret, handed back.

    A bound name without its secret is refused; a caller without a name submits as anonymous
    (whose work only an admin may cancel or delete). A submission that fails unbinds the name
    again, so a refused first request leaves no secret the caller never saw.
    """
    if caller.verified or caller.name == ANONYMOUS:
        yield caller.name
        return
    secret = new_secret()
    if not runtime.store.bind_name(caller.name, secret_hash(secret)):
        raise Forbidden(taken(caller.name))
    try:
        yield caller.name
    except BaseException:
        runtime.store.unbind_name(caller.name)
        raise
    give_token(response, request, secret)


def taken(name: str) -> str:
    return (
        f"The name {name} is taken. If it is yours, use the browser or the token "
        f"({TOKEN_HEADER}) you got with it; otherwise choose another name. The teacher can "
        "reset a name."
    )


def give_token(response: Response, request: Request, secret: str) -> None:
    """Give a caller its secret: an HttpOnly cookie for the page, a header for API clients."""
    response.headers[TOKEN_HEADER] = secret
    response.set_cookie(
        TOKEN_COOKIE,
        secret,
        max_age=180 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


# The largest integer the store holds (SQLite's INTEGER): ids and offsets
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
