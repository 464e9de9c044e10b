"""Build the application from settings: nothing happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from hxpulse.advocacy import api as advocacy_api
from hxpulse.advocacy import pages as advocacy_pages
from hxpulse.audit import api as audit_api
from hxpulse.audit import pages as audit_pages
from hxpulse.auth import admin as auth_admin
from hxpulse.auth import api as auth_api
from hxpulse.auth import pages as auth_pages
from hxpulse.auth import service as auth
from hxpulse.auth.keycache import KeyCache
from hxpulse.cases import api as cases_api
from hxpulse.cases import pages as cases_pages
from hxpulse.cases import sla_page
from hxpulse.clv import api as clv_api
from hxpulse.clv import pages as clv_pages
from hxpulse.config import Settings
from hxpulse.customers import api as customers_api
from hxpulse.customers import pages as customers_pages
from hxpulse.dashboard import api as dashboard_api
from hxpulse.dashboard import pages as dashboard_pages
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import ensure_current
from hxpulse.deps import LoginRequired
from hxpulse.errors import HXError, TooManyRequests
from hxpulse.events import api as events_api
from hxpulse.events import browser as events_browser
from hxpulse.events.group import GroupCommit
from hxpulse.feeds import api as feeds_api
from hxpulse.feeds import pages as feeds_pages
from hxpulse.feeds.recent import Recent
from hxpulse.journey import api as journey_api
from hxpulse.journey import pages as journey_pages
from hxpulse.offers import api as offers_api
from hxpulse.offers import pages as offers_pages
from hxpulse.offers import service as offers_service
from hxpulse.outbox import api as outbox_api
from hxpulse.outbox import pages as outbox_pages
from hxpulse.outbox.dispatcher import Dispatcher
from hxpulse.privacy import api as privacy_api
from hxpulse.privacy import pages as privacy_pages
from hxpulse.privacy import public as privacy_public
from hxpulse.pulse import api as pulse_api
from hxpulse.pulse import pages as pulse_pages
from hxpulse.pulse.rebuild import ensure_keys
from hxpulse.rules import api as rules_api
from hxpulse.rules import pages as rules_pages
from hxpulse.segments import api as segments_api
from hxpulse.segments import pages as segments_pages
from hxpulse.surveys import api as surveys_api
from hxpulse.surveys import pages as surveys_pages
from hxpulse.surveys import service as survey_service
from hxpulse.surveys import textfit
from hxpulse.web import docs, openapi, vendor
from hxpulse.web.cors import StreamCORS, TrackingCORS
from hxpulse.web.headers import SecurityHeaders
from hxpulse.web.limits import RateLimits, TokenBucket
from hxpulse.web.render import page
from hxpulse.web.text import plain_request
from hxpulse.webhooks import api as webhooks_api
from hxpulse.webhooks import pages as webhooks_pages

HERE = Path(__file__).parent / "web"  # the toolkit's templates and static files
LARGEST_BODY = 1024 * 1024  # surveys' bodies (surveys.api.MAX_BODY), the largest a route reads
log = logging.getLogger("hxpulse")


class Health(BaseModel):
    """The answer of `GET /healthz`."""

    status: str = Field(examples=["ok"], description="Always `ok`: the server answers.")


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
        offers_service.sync_catalogue(conn, settings.offers, now=datetime.now(UTC))
    textfit.warm(engine)  # the fitted text model, if it is used, loaded before the first answer

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dispatcher = Dispatcher(engine, settings).start() if _app.state.dispatch else None
        _app.state.dispatcher = dispatcher
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="HX Pulse",
        summary="Customer-experience platform: profiles, pulse, surveys, closed loops.",
        dependencies=[Depends(plain_request)],  # no NUL in the path, query or declared forms
        docs_url=None,
        redoc_url=None,
        # no body longer than the longest any route reads (routes that read their own body
        # have their own, smaller limits; this bounds the bodies FastAPI reads for a model)
        max_body_size=max(settings.max_batch_bytes, LARGEST_BODY),
    )
    app.state.settings = settings
    app.state.secret = secret  # signs session cookies and (salted apart) survey links
    app.state.engine = engine
    app.state.key_cache = KeyCache[auth.KeyInfo](ttl=1.0)
    app.state.clock = lambda: datetime.now(UTC)  # tests freeze it
    app.state.committer = GroupCommit(engine, live=settings.live)
    # the in-process dispatcher (`[outbox] in_process`); tests turn it on themselves
    app.state.dispatch = settings.outbox.in_process and settings.environment != "test"
    # the newest feed messages, read once per interval for all of this process's streams
    app.state.feed_recent = Recent(engine, max_age=settings.feeds.poll_ms / 2000)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.templates.env.globals["plotly_style_guard"] = vendor.style_guard_id()
    # the cookie carries only the session's token (and, before sign-in, the sign-in form's
    # CSRF token): the session itself is a row of user_sessions (auth/sessions.py)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hxpulse_session",
        max_age=int(settings.session_days * 86400),
        same_site="lax",
        https_only=settings.environment == "production",
    )
    app.state.track_limit = TokenBucket(settings.track_requests_per_second, settings.track_burst)
    app.state.survey_limit = TokenBucket(
        settings.survey_posts_per_minute / 60, max(settings.survey_posts_per_minute, 1)
    )
    app.add_middleware(RateLimits, track=app.state.track_limit, survey=app.state.survey_limit)
    app.add_middleware(
        SecurityHeaders,
        https=settings.public_url.lower().startswith("https://"),
        docs=docs.install(app),
    )
    # outermost: answers preflights before the limits, and lets pages read refusals
    app.add_middleware(TrackingCORS, prefixes=events_browser.CORS_PREFIXES)  # tracking only
    app.add_middleware(StreamCORS, pattern=feeds_api.CORS_PATHS)  # a customer's live feed
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Plotly's JavaScript ships inside the plotly package: served from there, never a CDN
    app.mount("/vendor/plotly", StaticFiles(directory=vendor.PLOTLY_JS), name="plotly")
    routers = (events_api.tracking, events_browser.router, events_api.router, pulse_api.router,
               customers_api.router, segments_api.router, surveys_api.router,
               auth_api.router)  # fmt: skip
    for router in routers:
        app.include_router(router, responses=openapi.ERRORS)
    pages = (auth_pages.router, auth_admin.router, customers_pages.router, pulse_pages.router,
             segments_pages.router, surveys_pages.router)  # fmt: skip
    for router in pages:
        app.include_router(router, include_in_schema=False)
    app.include_router(journey_pages.router, include_in_schema=False)
    app.include_router(rules_api.router, responses=openapi.ERRORS)
    app.include_router(rules_pages.router, include_in_schema=False)
    for router in (journey_api.router, privacy_api.router, privacy_public.api, audit_api.router):
        app.include_router(router, responses=openapi.ERRORS)
    for router in (privacy_pages.router, privacy_public.router, audit_pages.router):
        app.include_router(router, include_in_schema=False)
    app.include_router(cases_api.router, responses=openapi.ERRORS)
    for router in (sla_page.router, cases_pages.router):  # /cases/sla before /cases/{case_id}
        app.include_router(router, include_in_schema=False)
    for router in (webhooks_api.router, outbox_api.router):
        app.include_router(router, responses=openapi.ERRORS)
    for router in (webhooks_pages.router, outbox_pages.router):
        app.include_router(router, include_in_schema=False)
    app.include_router(feeds_api.router, responses=openapi.ERRORS)  # live feeds and email
    app.include_router(feeds_pages.router, include_in_schema=False)
    for router in (advocacy_api.router, advocacy_api.public):
        app.include_router(router, responses=openapi.ERRORS)
    app.include_router(advocacy_pages.router, include_in_schema=False)
    app.include_router(clv_api.router, responses=openapi.ERRORS)  # lifetime value
    app.include_router(clv_pages.router, include_in_schema=False)
    app.include_router(offers_api.router, responses=openapi.ERRORS)  # next best offers
    app.include_router(offers_pages.router, include_in_schema=False)
    app.include_router(dashboard_api.router, responses=openapi.ERRORS)  # the home dashboard
    app.include_router(dashboard_pages.router, include_in_schema=False)
    _install_error_handlers(app)
    openapi.install(app)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        """Browsers ask for /favicon.ico on their own: send them to the SVG mark."""
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/healthz", tags=["health"], response_model=Health)
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
    context = {"status": status, "message": body["message"]}
    try:  # with the navigation the person may use
        return page(request, "error.html", status_code=status, **context)
    except Exception:  # noqa: BLE001 - the database may be what failed: a bare page then
        log.exception("rendering the error page with the navigation failed")
        templates: Jinja2Templates = request.app.state.templates
        bare = {**context, "user": None, "can": lambda _permission: False, "csrf_token": ""}
        return templates.TemplateResponse(request, "error.html", bare, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse(exc.to_dict(), status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HXError)
    async def hx_error(request: Request, exc: HXError) -> Response:
        response = _render_error(request, exc.status_code, exc.to_dict())
        if isinstance(exc, TooManyRequests):
            response.headers["retry-after"] = str(exc.retry_after)
        return response

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
        response = _render_error(request, exc.status_code, body)
        response.headers.update(exc.headers or {})  # e.g. the `Allow` of a 405
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = {"success": False, "code": "internal", "message": "internal error; see the log"}
        response = _render_error(request, 500, body)
        # the server drops the connection after an unexpected error: say so, so that a
        # keep-alive client opens a new one instead of writing into a closed socket
        response.headers["connection"] = "close"
        return response
