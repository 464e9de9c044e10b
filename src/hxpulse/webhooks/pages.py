"""The Webhooks page: endpoints with their recent deliveries; create (the secret shown once),
rotate, test, turn off or on, delete. Each action is a plain form with its CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, Engine
from starlette.responses import Response

from hxpulse import deps
from hxpulse.db.engine import run_write
from hxpulse.deps import DbId, EngineDep, SettingsDep, WebhooksManage
from hxpulse.errors import HXError
from hxpulse.outbox import queries
from hxpulse.web import csrf
from hxpulse.web.render import page
from hxpulse.webhooks import service

router = APIRouter()
Token = Annotated[str, Form()]
RECENT = 5


def _index(request: Request, engine: Engine, status_code: int = 200, **context: Any) -> Response:
    with engine.connect() as conn:
        items = service.list_endpoints(conn)
        for item in items:
            item["recent"] = queries.deliveries(
                conn, queries.Filters(endpoint=item["name"]), limit=RECENT
            )
    context.setdefault("error", None)
    context.setdefault("secret", None)
    return page(request, "webhooks.html", status_code=status_code, items=items, **context)


@router.get("/webhooks")
def webhooks_page(request: Request, engine: EngineDep, _actor: WebhooksManage) -> Response:
    return _index(request, engine)


@router.post("/webhooks")
def create_webhook(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: WebhooksManage,
    name: Annotated[str, Form(max_length=100)] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    event_types: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Token = "",
) -> Response:
    """Add an endpoint; its secret is shown this once."""
    csrf.check(request, csrf_token)
    who, now = deps.who(request, actor), deps.now(request)
    types = [t for t in event_types.replace(",", " ").split() if t]
    try:
        made = run_write(engine, lambda conn: service.create(
            conn, name=name, url=url, event_types=types, settings=settings.webhooks, now=now,
            who=who))  # fmt: skip
    except HXError as exc:
        return _index(request, engine, exc.status_code, error=exc.message)
    return _index(request, engine, 201, secret=made["secret"], made=made)


def _act(
    request: Request, engine: Engine, token: str, work: Callable[[Connection], object]
) -> Response:
    csrf.check(request, token)
    try:
        run_write(engine, work)
    except HXError as exc:
        return _index(request, engine, exc.status_code, error=exc.message)
    return RedirectResponse("/webhooks", status_code=303)


@router.post("/webhooks/{endpoint_id}/rotate")
def rotate_webhook(
    request: Request,
    endpoint_id: DbId,
    engine: EngineDep,
    settings: SettingsDep,
    actor: WebhooksManage,
    csrf_token: Token = "",
) -> Response:
    """Give the endpoint a new secret, shown this once; the old one signs for a while too."""
    csrf.check(request, csrf_token)
    who, now = deps.who(request, actor), deps.now(request)
    try:
        made = run_write(engine, lambda conn: service.rotate(
            conn, endpoint_id, settings=settings.webhooks, now=now, who=who))  # fmt: skip
    except HXError as exc:
        return _index(request, engine, exc.status_code, error=exc.message)
    return _index(request, engine, secret=made["secret"], made=made, rotated=True)


@router.post("/webhooks/{endpoint_id}/test")
def test_webhook(
    request: Request, endpoint_id: DbId, engine: EngineDep, actor: WebhooksManage,
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    who, now = deps.who(request, actor), deps.now(request)
    return _act(request, engine, csrf_token,
                lambda conn: service.send_test(conn, endpoint_id, now=now, who=who))  # fmt: skip


@router.post("/webhooks/{endpoint_id}/enabled")
def enable_webhook(
    request: Request,
    endpoint_id: DbId,
    engine: EngineDep,
    settings: SettingsDep,
    actor: WebhooksManage,
    enabled: Annotated[bool, Form()] = True,
    csrf_token: Token = "",
) -> Response:
    who, now = deps.who(request, actor), deps.now(request)
    return _act(request, engine, csrf_token, lambda conn: service.update_endpoint(
        conn, endpoint_id, settings=settings.webhooks, now=now, who=who,
        enabled=enabled))  # fmt: skip


@router.post("/webhooks/{endpoint_id}/delete")
def delete_webhook(
    request: Request, endpoint_id: DbId, engine: EngineDep, actor: WebhooksManage,
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    who, now = deps.who(request, actor), deps.now(request)
    return _act(request, engine, csrf_token,
                lambda conn: service.remove(conn, endpoint_id, now=now, who=who))  # fmt: skip
