"""JSON routes for webhook endpoints: the twins of the Webhooks page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hxpulse import deps
from hxpulse.db.engine import run_write
from hxpulse.deps import DbId, EngineDep, SettingsDep, WebhooksManage
from hxpulse.webhooks import service
from hxpulse.webhooks.schemas import (
    PingQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.get("", response_model=WebhookList)
def list_webhooks(engine: EngineDep, _actor: WebhooksManage) -> dict[str, Any]:
    """Every webhook endpoint (never its secret)."""
    with engine.connect() as conn:
        return {"items": service.list_endpoints(conn)}


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(
    body: WebhookCreate,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: WebhooksManage,
) -> dict[str, Any]:
    """Add an endpoint; its `secret` (`whsec_…`) is returned this once."""
    who, now = deps.who(request, actor), deps.now(request)
    return run_write(engine, lambda conn: service.create(
        conn, name=body.name, url=body.url, event_types=body.event_types,
        description=body.description, settings=settings.webhooks, now=now, who=who))  # fmt: skip


@router.get("/{endpoint_id}", response_model=WebhookRead)
def get_webhook(endpoint_id: DbId, engine: EngineDep, _actor: WebhooksManage) -> dict[str, Any]:
    """One endpoint (never its secret)."""
    with engine.connect() as conn:
        return service.get(conn, endpoint_id)


@router.patch("/{endpoint_id}", response_model=WebhookRead)
def update_webhook(
    endpoint_id: DbId,
    body: WebhookUpdate,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: WebhooksManage,
) -> dict[str, Any]:
    """Change an endpoint's URL, event types, description, or turn it off or on."""
    who, now = deps.who(request, actor), deps.now(request)
    return run_write(engine, lambda conn: service.update_endpoint(
        conn, endpoint_id, settings=settings.webhooks, now=now, who=who, url=body.url,
        event_types=body.event_types, description=body.description,
        enabled=body.enabled))  # fmt: skip


@router.delete("/{endpoint_id}", status_code=204)
def delete_webhook(
    endpoint_id: DbId, request: Request, engine: EngineDep, actor: WebhooksManage
) -> None:
    """Delete an endpoint (deliveries still due to it go dead)."""
    who, now = deps.who(request, actor), deps.now(request)
    run_write(engine, lambda conn: service.remove(conn, endpoint_id, now=now, who=who))


@router.post("/{endpoint_id}/rotate", response_model=WebhookCreated)
def rotate_webhook(
    endpoint_id: DbId,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: WebhooksManage,
) -> dict[str, Any]:
    """Give the endpoint a new secret, returned this once; the old one also signs deliveries
    for `webhooks.rotation_hours` (both signatures are sent)."""
    who, now = deps.who(request, actor), deps.now(request)
    return run_write(engine, lambda conn: service.rotate(
        conn, endpoint_id, settings=settings.webhooks, now=now, who=who))  # fmt: skip


@router.post("/{endpoint_id}/test", status_code=202, response_model=PingQueued)
def test_webhook(
    endpoint_id: DbId, request: Request, engine: EngineDep, actor: WebhooksManage
) -> dict[str, Any]:
    """Send the endpoint a `webhook.test` ping (through the outbox, like every delivery)."""
    who, now = deps.who(request, actor), deps.now(request)
    key = run_write(engine, lambda conn: service.send_test(conn, endpoint_id, now=now, who=who))
    return {"key": key}
