"""Every error becomes an HTTP answer here, and only here, as {"detail": ...} a student can read."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from reglab.errors import Conflict, Forbidden, NotFound, QuotaExceeded, ReglabError

_STATUS: dict[type[ReglabError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    QuotaExceeded: 429,
}

# ExperimentSpec checks variants and grid in a model validator, so pydantic reports them at the
# model's root; the message itself says where ("variants[2]: override.regularization.l2: ...").
_VARIANT = re.compile(r"^variants\[(\d+)\]: override\.([\w.]+): (.*)$", re.S)
_GRID = re.compile(r"^grid run '.*?': override\.([\w.]+): (.*)$", re.S)


def field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """body.variants.0.override.l2 → variants.0.override.l2 (the part a form knows)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)


def locate(error: dict[str, Any], body: Any) -> dict[str, Any]:
    """One pydantic error with its `loc` pointing at the field, its message free of jargon."""
    loc = list(error.get("loc", ()))
    msg = str(error.get("msg", "")).removeprefix("Value error, ")
    prefix = loc[:-1] if loc and loc[-1] == "base" else loc  # where the spec sits in the body
    if m := _VARIANT.match(msg):
        loc = [*prefix, "variants", int(m[1]), "override", *m[2].split(".")]
        msg = m[3]
    elif m := _GRID.match(msg):
        path, msg = m[1], m[2]
        axes = body.get("grid", []) if isinstance(body, dict) else []
        index = next(
            (i for i, a in enumerate(axes) if isinstance(a, dict) and a.get("field") == path), 0
        )
        loc = [*prefix, "grid", index, "values"]
    elif loc in (["body"], []) and isinstance(body, dict):
        if "variant" in msg or "runs in one experiment" in msg:
            loc = ["body", "variants"]
        elif "grid" in msg:
            loc = ["body", "grid"]
        elif "epochs over all runs" in msg:
            loc = ["body", "base", "train", "epochs"]
    out = {"loc": loc, "field": field_path(loc), "msg": msg, "type": error.get("type", "")}
    return out


def install(app: FastAPI) -> None:
    """Map domain errors and validation errors to HTTP responses."""

    @app.exception_handler(ReglabError)
    async def _domain(_request: Request, exc: ReglabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_STATUS.get(type(exc), 400))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [locate(dict(e), exc.body) for e in exc.errors()]
        return JSONResponse(
            {"detail": jsonable_encoder(errors, custom_encoder={ValueError: str})},
            status_code=422,
        )
