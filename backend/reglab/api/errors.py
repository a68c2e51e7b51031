"""Every error becomes an HTTP answer here, and only here, as {"detail": ...} a student can read."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from reglab.errors import (
    Conflict,
    Forbidden,
    NotFound,
    OverLimit,
    QuotaExceeded,
    ReglabError,
    Unauthorized,
    located,
)

_STATUS: dict[type[ReglabError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
    QuotaExceeded: 429,
}


def field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """body.variants.0.override.l2 → variants.0.override.l2 (the part a form knows)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)


def locate(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error with its `loc` pointing at the field, its message free of jargon."""
    loc, msg = located(error)
    return {"loc": list(loc), "field": field_path(loc), "msg": msg, "type": error.get("type", "")}


def install(app: FastAPI) -> None:
    """Map domain errors and validation errors to HTTP responses."""

    @app.exception_handler(ReglabError)
    async def _domain(_request: Request, exc: ReglabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_STATUS.get(type(exc), 400))

    @app.exception_handler(OverLimit)
    async def _over_limit(_request: Request, exc: OverLimit) -> JSONResponse:
        loc = ["body", *exc.field.split(".")]
        error = {"loc": loc, "field": exc.field, "msg": str(exc), "type": "over_limit"}
        return JSONResponse({"detail": [error]}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [locate(dict(e)) for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
