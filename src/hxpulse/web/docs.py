"""The API description pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), working offline: their
JavaScript and CSS come from the `fastapi-offline` package, served from `/vendor/docs`, never
from a CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from hxpulse.web.headers import docs_policy

ASSETS = Path(str(files("fastapi_offline") / "static"))
PREFIX = "/vendor/docs"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _hashes(page: HTMLResponse) -> list[str]:
    """The CSP hashes (base64 SHA-256) of a page's inline scripts."""
    return [
        base64.b64encode(hashlib.sha256(body).digest()).decode()
        for body in _INLINE_SCRIPT.findall(bytes(page.body))
    ]


def install(app: FastAPI) -> dict[str, str]:
    """Add `/docs`, `/redoc` and their assets to `app`; return each page's CSP by path."""
    title = f"{app.title} API"
    swagger = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
        oauth2_redirect_url=None,
    )
    redoc = get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        redoc_js_url=f"{PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}/favicon.png",
        with_google_fonts=False,
    )
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return swagger

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return redoc

    return {"/docs": docs_policy(_hashes(swagger)), "/redoc": docs_policy(_hashes(redoc))}
