"""Build the application from settings: nothing happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from hxpulse.auth import pages as auth_pages
from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.customers import api as customers_api
from hxpulse.customers import pages as customers_pages
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import ensure_current
from hxpulse.deps import LoginRequired
from hxpulse.errors import HXError
from hxpulse.events import api as events_api
from hxpulse.events.group import GroupCommit
from hxpulse.journey import api as journey_api
from hxpulse.journey import pages as journey_pages
from hxpulse.pulse import api as pulse_api
from hxpulse.pulse import pages as pulse_pages
from hxpulse.pulse.rebuild import ensure_keys
from hxpulse.segments import api as segments_api
from hxpulse.segments import pages as segments_pages
from hxpulse.surveys import api as surveys_api
from hxpulse.surveys import pages as surveys_pages
from hxpulse.surveys import service as survey_service

HERE = Path(__file__).parent
PLOTLY_JS = Path(str(files("plotly") / "package_data"))
log = logging.getLogger("hxpulse")


def create_app(settings: Settings) -> FastAPI:
    """Return the HX Pulse application for `settings`, migrating a new database first."""
    engine = make_engine(settings)
    try:
        ensure_current(engine)
        notes = ensure_keys(engine, settings.live, now=datetime.now(UTC))
    except Exception:
        engine.dispose()  # e.g. a half-life the stored pulse was not built with
        raise
    for note in notes:
        log.warning("pulse: %s", note)
    with engine.begin() as conn:
        secret = settings.secret_key or auth.session_secret(conn)
        survey_service.sync_definitions(conn, settings.surveys, now=datetime.now(UTC))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="HX Pulse",
        summary="Customer-experience platform: profiles, pulse, surveys, closed loops.",
    )
    app.state.settings = settings
    app.state.secret = secret  # signs session cookies and (salted apart) survey links
    app.state.engine = engine
    app.state.key_cache = {}
    app.state.committer = GroupCommit(engine, live=settings.live)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hxpulse_session",
        same_site="lax",
        https_only=settings.environment == "production",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Plotly's JavaScript ships inside the plotly package: served from there, never a CDN
    app.mount("/vendor/plotly", StaticFiles(directory=PLOTLY_JS), name="plotly")
    routers = (events_api.tracking, events_api.router, pulse_api.router, customers_api.router,
               segments_api.router, surveys_api.router)  # fmt: skip
    for router in routers:
        app.include_router(router)
    pages = (auth_pages.router, customers_pages.router, pulse_pages.router, segments_pages.router,
             surveys_pages.router)  # fmt: skip
    for router in pages:
        app.include_router(router, include_in_schema=False)
    app.include_router(journey_api.router)
    app.include_router(journey_pages.router, include_in_schema=False)
    _install_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/customers", status_code=303)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Say the server is up."""
        return {"status": "ok"}

    return app


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api", "/v1")) or "text/html" not in request.headers.get("accept", "")


def _render_error(request: Request, status: int, body: dict[str, Any]) -> Response:
    if _wants_json(request):
        return JSONResponse(body, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": body["message"]}, status_code=status
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse(exc.to_dict(), status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HXError)
    async def hx_error(request: Request, exc: HXError) -> Response:
        return _render_error(request, exc.status_code, exc.to_dict())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        body = {"success": False, "code": "invalid", "message": message, "errors": errors}
        return _render_error(request, 422, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        body = {"success": False, "code": "http_error", "message": str(exc.detail)}
        return _render_error(request, exc.status_code, body)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = {"success": False, "code": "internal", "message": "internal error; see the log"}
        return _render_error(request, 500, body)
