"""The API description page `/docs` (Swagger UI), working offline: its JavaScript and CSS come
from the `fastapi-offline` package, served from `/vendor/docs`, never from a CDN.

There is no `/redoc`: ReDoc's bundle loads its logo from its own CDN, which the pages'
Content-Security-Policy refuses (and which is not there offline); Swagger UI shows the same
description and lets one try the calls."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
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
    """Add `/docs` and its assets to `app`; return the page's CSP by path."""
    title = f"{app.title} API"
    swagger = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
        oauth2_redirect_url=None,
    )
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return swagger

    return {"/docs": docs_policy(_hashes(swagger))}
