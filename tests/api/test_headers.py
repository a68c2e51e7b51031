"""Every answer says what a browser may do with it; the API's docs load nothing from elsewhere."""

from __future__ import annotations

import re

import httpx
import pytest

from api.conftest import LiveServer


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/app.js", 200),
        ("GET", "/api/health", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/api/experiments/424242", 404),
        ("GET", "/api/experiments?limit=0", 422),
        ("POST", "/api/experiments", 413),
    ],
)
def test_every_answer_carries_the_security_headers(
    server: LiveServer, method: str, path: str, status: int
) -> None:
    content = b"x" * (server.settings.max_request_bytes + 1) if status == 413 else None
    response = server.http.request(method, path, content=content)
    assert response.status_code == status
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_docs_load_swagger_ui_from_this_server(server: LiveServer) -> None:
    page = server.http.get("/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "<script>" not in page  # no inline script: the CSP forbids it
    for source in sources:
        asset = server.http.get(source)
        assert asset.status_code == 200, source
    bundle = server.http.get("/static/docs/swagger-ui-bundle.js")
    assert len(bundle.content) > 500_000 and b"SwaggerUIBundle" in bundle.content
    assert httpx.get(f"{server.url}/redoc", timeout=30).status_code == 404
