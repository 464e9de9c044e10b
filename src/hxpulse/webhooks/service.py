"""Webhook endpoints: create (the secret shown once), rotate, update, delete, and `fan_out`,
which enqueues one webhook per subscribed endpoint in the caller's transaction."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM, Who
from hxpulse.config import WebhookSettings
from hxpulse.errors import Conflict, Invalid, NotFound
from hxpulse.outbox import service as outbox
from hxpulse.outbox.service import Action
from hxpulse.webhooks.models import WebhookEndpoint
from hxpulse.webhooks.urls import check_url

endpoints_t = cast(Table, WebhookEndpoint.__table__)
SECRET_PREFIX = "whsec_"
PUBLIC = ("id", "name", "url", "event_types", "description", "enabled", "disabled_reason",
          "created_at", "updated_at", "previous_until")  # fmt: skip
TEST_EVENT = "webhook.test"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _public(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    return {name: data[name] for name in PUBLIC}


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("name: 1 to 100 characters")
    return name


def _types(event_types: Sequence[str]) -> list[str]:
    cleaned = [t.strip() for t in event_types]
    if any(not t or len(t) > 100 for t in cleaned):
        raise Invalid("event_types: each type is 1 to 100 characters")
    return sorted(set(cleaned))


def list_endpoints(conn: Connection) -> list[dict[str, Any]]:
    """Every endpoint, by name (secrets left out)."""
    return [_public(r) for r in conn.execute(select(endpoints_t).order_by(endpoints_t.c.name))]


def _row(conn: Connection, endpoint_id: int) -> Any:
    found = conn.execute(select(endpoints_t).where(endpoints_t.c.id == endpoint_id)).first()
    if found is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return found


def get(conn: Connection, endpoint_id: int) -> dict[str, Any]:
    """One endpoint (its secrets left out)."""
    return _public(_row(conn, endpoint_id))


def get_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    """The endpoint called `name`, secrets included (for the sender), or None."""
    found = conn.execute(select(endpoints_t).where(endpoints_t.c.name == name)).first()
    return dict(found._mapping) if found is not None else None


def create(
    conn: Connection,
    *,
    name: str,
    url: str,
    event_types: Sequence[str] = (),
    description: str | None = None,
    settings: WebhookSettings,
    now: datetime,
    who: Who = SYSTEM,
) -> dict[str, Any]:
    """Add an endpoint; the answer carries its `secret`, shown this once."""
    values = {"name": _name(name), "event_types": _types(event_types),
              "url": check_url(url, allow_private=settings.allow_private_networks),
              "description": description or None, "secret": new_secret(), "enabled": True,
              "created_at": now, "updated_at": now}  # fmt: skip
    try:
        with conn.begin_nested():
            endpoint_id = conn.execute(
                insert(endpoints_t).returning(endpoints_t.c.id), values
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"name: a webhook endpoint called {values['name']!r} exists") from None
    audit.record(conn, who=who, action="webhook.create", now=now, subject_kind="webhook",
                 subject_id=endpoint_id, detail={"name": values["name"], "url": values["url"],
                                                 "event_types": values["event_types"]})  # fmt: skip
    return {**get(conn, endpoint_id), "secret": values["secret"]}


def update_endpoint(
    conn: Connection,
    endpoint_id: int,
    *,
    settings: WebhookSettings,
    now: datetime,
    who: Who = SYSTEM,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> dict[str, Any]:
    """Change what is given (re-enabling clears the reason it was disabled)."""
    _row(conn, endpoint_id)
    values: dict[str, Any] = {"updated_at": now}
    if url is not None:
        values["url"] = check_url(url, allow_private=settings.allow_private_networks)
    if event_types is not None:
        values["event_types"] = _types(event_types)
    if description is not None:
        values["description"] = description or None
    if enabled is not None:
        values["enabled"] = enabled
        values["disabled_reason"] = None if enabled else "disabled by a person"
    conn.execute(update(endpoints_t).where(endpoints_t.c.id == endpoint_id).values(**values))
    changed = {k: v for k, v in values.items() if k != "updated_at"}
    audit.record(conn, who=who, action="webhook.update", now=now, subject_kind="webhook",
                 subject_id=endpoint_id, detail=changed)  # fmt: skip
    return get(conn, endpoint_id)


def rotate(
    conn: Connection,
    endpoint_id: int,
    *,
    settings: WebhookSettings,
    now: datetime,
    who: Who = SYSTEM,
) -> dict[str, Any]:
    """Give the endpoint a new secret (returned this once); the old one stays valid, and
    deliveries carry both signatures, for `settings.rotation_hours`."""
    found = _row(conn, endpoint_id)
    secret = new_secret()
    until = now + timedelta(hours=settings.rotation_hours)
    conn.execute(update(endpoints_t).where(endpoints_t.c.id == endpoint_id)
                 .values(secret=secret, previous_secret=found.secret, previous_until=until,
                         updated_at=now))  # fmt: skip
    audit.record(conn, who=who, action="webhook.rotate", now=now, subject_kind="webhook",
                 subject_id=endpoint_id, detail={"previous_until": until.isoformat()})  # fmt: skip
    return {**get(conn, endpoint_id), "secret": secret}


def remove(conn: Connection, endpoint_id: int, *, now: datetime, who: Who = SYSTEM) -> None:
    """Delete an endpoint (its pending deliveries go dead when they come up)."""
    found = _row(conn, endpoint_id)
    conn.execute(delete(endpoints_t).where(endpoints_t.c.id == endpoint_id))
    audit.record(conn, who=who, action="webhook.delete", now=now, subject_kind="webhook",
                 subject_id=endpoint_id, detail={"name": found.name})  # fmt: skip


def disable(conn: Connection, name: str, *, reason: str, now: datetime) -> None:
    """Turn an endpoint off (the sender does, on 410 Gone)."""
    conn.execute(update(endpoints_t).where(endpoints_t.c.name == name)
                 .values(enabled=False, disabled_reason=reason[:500], updated_at=now))  # fmt: skip
    audit.record(conn, who=SYSTEM, action="webhook.disable", now=now, subject_kind="webhook",
                 subject_id=name, detail={"reason": reason[:500]})  # fmt: skip


def subscribers(conn: Connection, event_type: str) -> list[str]:
    """The names of the enabled endpoints that want `event_type` (none listed: every type)."""
    rows = conn.execute(select(endpoints_t.c.name, endpoints_t.c.event_types)
                        .where(endpoints_t.c.enabled.is_(True))
                        .order_by(endpoints_t.c.name))  # fmt: skip
    return [r.name for r in rows if not r.event_types or event_type in r.event_types]


def fan_out(
    conn: Connection,
    *,
    event_type: str,
    data: dict[str, Any],
    key: str,
    customer_id: int | None = None,
    cause: str | None = None,
    now: datetime,
) -> int:
    """Enqueue, in the caller's transaction, one `webhook` action per enabled endpoint that
    wants `event_type`; each action's key is `{key}:{endpoint}` (the receiver's
    `webhook-id`). Return how many were new."""
    actions = [
        Action(
            "webhook",
            f"{key}:{name}",
            {"endpoint": name, "type": event_type, "data": data},
            customer_id=customer_id,
            cause=cause,
        )  # fmt: skip
        for name in subscribers(conn, event_type)
    ]
    return outbox.enqueue(conn, actions, now=now)


def send_test(conn: Connection, endpoint_id: int, *, now: datetime, who: Who = SYSTEM) -> str:
    """Enqueue a `webhook.test` ping to one endpoint; return the delivery's key."""
    found = _row(conn, endpoint_id)
    key = f"test:{found.id}:{secrets.token_hex(8)}"
    data = {"endpoint": found.name, "sent_by": who.label}
    outbox.enqueue(conn, [Action("webhook", key, {"endpoint": found.name, "type": TEST_EVENT,
                                                  "data": data})], now=now)  # fmt: skip
    return key
