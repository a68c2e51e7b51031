"""The FastAPI application: create_app(settings) wires routes, errors, limits, stream and page."""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from reglab.api import (
    admin,
    board_stream,
    challenges,
    classroom,
    docs,
    errors,
    experiments,
    exports,
    identity,
    meta,
    polls,
    report,
    runs,
    stream,
)
from reglab.api.deps import AdminSessions, LastSeen
from reglab.api.headers import SecurityHeaders
from reglab.api.history import CompactCache
from reglab.api.limits import BodyLimit
from reglab.config import Settings
from reglab.jobs.runtime import Runtime
from reglab.store.codec import wire_json

log = logging.getLogger(__name__)
# Answers shorter than this go as they are: compressing them saves less than it costs.
GZIP_MIN_BYTES = 4096


class WireJSONResponse(JSONResponse):
    """JSON where NaN and ±Inf are written "NaN", "Infinity", "-Infinity" (strict JSON)."""

    def render(self, content: Any) -> bytes:
        # Encoded once, as the store's events are: checking for NaN with one encoding and writing
        # with another doubled the cost of every answer.
        return wire_json(content, ensure_ascii=False)[1].encode("utf-8")


def plotly_js() -> Path:
    """plotly.js, shipped inside the reglab package (no CDN; the HTML report inlines it too)."""
    return report.PLOTLY_JS


@functools.cache
def _gzipped(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    """A file gzipped once (at the best level) and its ETag, kept for the file's version."""
    body = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def static_gzipped(request: Request, path: Path, media_type: str) -> Response:
    """A static file every page loads, gzipped ahead of time rather than by the middleware at
    each request (plotly.js, 1.26 MB: the server's level-1 chunks took 0.2-0.3 s to reach a page
    opened beside a history answer, the page waiting on them). A browser holding it revalidates
    by ETag and gets a 304; a client that takes no gzip gets the file as it is."""
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return FileResponse(path, media_type=media_type)
    body, etag = _gzipped(path, path.stat().st_mtime_ns)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole service; the runtime (store, workers, pump) starts with the app's lifespan."""
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await run_in_threadpool(Runtime, settings)
        runtime.start(asyncio.get_running_loop())
        app.state.runtime = runtime
        try:
            yield
        finally:
            await run_in_threadpool(runtime.stop)

    app = FastAPI(
        title="reglab",
        description="A live lab comparing regularizers and optimizers side by side.",
        version="0.1.0",
        lifespan=lifespan,
        default_response_class=WireJSONResponse,
        docs_url=None,  # served by docs.install from local files, not a CDN
        redoc_url=None,
    )
    errors.install(app)
    docs.install(app)
    for module in (
        meta,
        identity,
        experiments,
        exports,
        runs,
        admin,
        challenges,
        board_stream,
        classroom,
        polls,
    ):
        app.include_router(module.router)
    stream.install(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    # Large answers gzipped, at the fastest level: a finished experiment's history (6 MB of
    # JSON → 2 MB) for a class on one Wi-Fi; plotly.js comes gzipped ahead (static_gzipped).
    # Websockets pass by.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=1)
    app.add_middleware(SecurityHeaders)  # outside BodyLimit: its 413 carries them too

    app.state.admin_sessions = AdminSessions()  # the teacher's signed-in browsers
    app.state.last_seen = LastSeen()  # when each name last identified itself (the class page)
    app.state.boards = challenges.Boards()  # each challenge's board, worked out once a change
    app.state.histories = CompactCache()  # finished experiments' histories, as the page opens them
    script = plotly_js()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_bundle(request: Request) -> Response:
        return static_gzipped(request, script, "text/javascript")

    frontend = Path(settings.frontend_dir)
    if (frontend / "index.html").is_file():
        app.mount("/", StaticFiles(directory=frontend, html=True), name="frontend")
    else:
        log.warning("no dashboard at %s (REGLAB_FRONTEND_DIR); serving the API only", frontend)
    return app
