"""/docs: Swagger UI served from this server (the files fastapi-offline ships), no CDN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/static/docs"

# The page's own start-up script lives in a file, not inline, so the CSP needs no inline script.
_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>reglab API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon.png">
</head><body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/init.js"></script>
</body></html>
"""


def swagger_assets() -> Path:
    """Swagger UI's bundle, CSS and icon as the fastapi-offline package ships them."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("fastapi-offline is not installed; run `make install`.")
    return Path(spec.origin).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Serve /docs and its assets; the app is created with docs_url=None, redoc_url=None."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE)

    @router.get(f"{ASSETS}/init.js")
    def docs_init() -> Response:
        return Response(_INIT, media_type="text/javascript")

    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=swagger_assets()), name="docs-assets")
