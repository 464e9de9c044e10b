"""Endpoints: secrets shown once, rotation with both signatures for a while, fan_out."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.errors import Conflict, Invalid
from hxpulse.outbox.dispatch import Delivery
from hxpulse.webhooks import sender, service
from tests.webhooks.helpers import endpoint, fan, local

URL = "http://127.0.0.1:9/hook"


def test_a_secret_is_whsec_and_base64_of_32_bytes() -> None:
    secret = service.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_create_shows_the_secret_once(settings: Settings, engine: Engine) -> None:
    made = endpoint(engine, local(settings), URL, event_types=("case.opened", "case.opened"))
    assert made["secret"].startswith("whsec_") and made["event_types"] == ["case.opened"]
    with engine.connect() as conn:
        assert "secret" not in service.get(conn, made["id"])
        assert all("secret" not in e for e in service.list_endpoints(conn))
        actions = conn.execute(text("SELECT action FROM audit_log ORDER BY id")).scalars().all()
    assert "webhook.create" in actions
    with pytest.raises(Conflict, match="name"):
        endpoint(engine, local(settings), URL)


def test_create_checks_the_url(settings: Settings, engine: Engine) -> None:
    with pytest.raises(Invalid, match="private or loopback"):
        endpoint(engine, settings, URL)  # private networks are off by default
    with pytest.raises(Invalid, match="http:// or https://"):
        endpoint(engine, local(settings), "file:///etc/passwd")


def _delivery(key: str = "k1") -> Delivery:
    now = datetime.now(UTC)
    return Delivery(1, key, "webhook", None, None, {"endpoint": "ops", "type": "t", "data": {}},
                    1, now)  # fmt: skip


def test_rotation_signs_with_both_secrets_during_the_overlap(
    settings: Settings, engine: Engine
) -> None:
    now = datetime.now(UTC)
    made = endpoint(engine, local(settings), URL, now=now)
    rotated = run_write(engine, lambda conn: service.rotate(
        conn, made["id"], settings=settings.webhooks, now=now))  # fmt: skip
    old, new = made["secret"], rotated["secret"]
    assert old != new and rotated["previous_until"] == now + timedelta(hours=24)
    with engine.connect() as conn:
        found = service.get_by_name(conn, "ops")
    assert found is not None
    delivery = _delivery()
    body, headers = sender.message(delivery, found, now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    stamp = delivery.created_at.isoformat().replace("+00:00", "Z")
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"type": "t", "timestamp": stamp,
                                                         "data": {}}  # fmt: skip
    # after the overlap only the new secret signs
    later = {**found, "previous_until": now - timedelta(seconds=1)}
    body, headers = sender.message(_delivery(), later, now)
    assert " " not in headers["webhook-signature"]
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


def test_fan_out_enqueues_one_per_subscribed_enabled_endpoint(
    settings: Settings, engine: Engine
) -> None:
    s = local(settings)
    endpoint(engine, s, URL, "all")
    endpoint(engine, s, URL, "cases", event_types=("case.opened",))
    off = endpoint(engine, s, URL, "off")
    run_write(engine, lambda conn: service.update_endpoint(
        conn, off["id"], settings=s.webhooks, now=datetime.now(UTC), enabled=False))  # fmt: skip
    assert fan(engine, ["e1"], "case.opened") == 2
    assert fan(engine, ["e1"], "case.opened") == 0  # idempotent by key
    assert fan(engine, ["e2"], "rule.fired") == 1
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT key FROM outbox ORDER BY key")).scalars().all()
    assert keys == ["e1:all", "e1:cases", "e2:all"]
