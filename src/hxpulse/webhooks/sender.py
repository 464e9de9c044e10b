"""Deliver one `webhook` action: a JSON POST signed per Standard Webhooks.

Headers `webhook-id` (the outbox key: the same on every retry, so a receiver can drop
repeats), `webhook-timestamp` (seconds since the epoch) and `webhook-signature`:
`v1,<base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}" keyed by the secret's bytes>`,
one per valid secret (both while a rotated secret lasts), space-separated. 2xx is delivered;
410 Gone disables the endpoint; anything else is tried again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid
from hxpulse.outbox.dispatch import Context, Delivery, Outcome, http_client
from hxpulse.webhooks import service
from hxpulse.webhooks.urls import check_url

EXCERPT = 1000
USER_AGENT = "hxpulse-webhooks/1"


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` of a message with `secret` (`whsec_…`)."""
    raw = secret.removeprefix(service.SECRET_PREFIX)
    key = base64.b64decode(raw + "=" * (-len(raw) % 4))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def valid_secrets(endpoint: dict[str, Any], now: datetime) -> list[str]:
    """The secrets a delivery at `now` is signed with: the current one, and the previous one
    while it lasts."""
    found = [endpoint["secret"]]
    until = endpoint.get("previous_until")
    if endpoint.get("previous_secret") and until is not None and now < until:
        found.append(endpoint["previous_secret"])
    return found


def message(
    delivery: Delivery, endpoint: dict[str, Any], now: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery at `now`."""
    payload = delivery.payload
    body = orjson.dumps({"type": payload.get("type"),
                         "timestamp": delivery.created_at.isoformat().replace("+00:00", "Z"),
                         "data": payload.get("data", {})})  # fmt: skip
    stamp = int(now.timestamp())
    signatures = " ".join(
        sign(s, msg_id=delivery.key, timestamp=stamp, body=body)
        for s in valid_secrets(endpoint, now)
    )
    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               "webhook-id": delivery.key, "webhook-timestamp": str(stamp),
               "webhook-signature": signatures}  # fmt: skip
    return body, headers


def deliver(context: Context, delivery: Delivery) -> Outcome:
    """POST one webhook; the outbox handler of the `webhook` kind."""
    name = str(delivery.payload.get("endpoint", ""))
    with context.engine.connect() as conn:
        endpoint = service.get_by_name(conn, name)
    if endpoint is None:
        return Outcome(False, response=f"no webhook endpoint called {name!r}", final=True)
    if not endpoint["enabled"]:
        reason = endpoint["disabled_reason"] or "disabled"
        return Outcome(False, response=f"the endpoint {name!r} is disabled: {reason}", final=True)
    webhooks = context.settings.webhooks
    try:  # again now: the name may resolve elsewhere than when the endpoint was saved
        check_url(endpoint["url"], allow_private=webhooks.allow_private_networks)
    except Invalid as exc:
        return Outcome(False, response=exc.message)
    body, headers = message(delivery, endpoint, context.now)
    try:
        if context.http is not None:
            answer = context.http.post(endpoint["url"], content=body, headers=headers,
                                       timeout=webhooks.timeout_seconds)  # fmt: skip
        else:
            with http_client(webhooks.timeout_seconds) as client:
                answer = client.post(endpoint["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        host = urlsplit(endpoint["url"]).netloc
        return Outcome(False, response=f"{type(exc).__name__} sending to {host}: {exc}"[:EXCERPT])
    excerpt = answer.text[:EXCERPT]
    if 200 <= answer.status_code < 300:
        return Outcome(True, answer.status_code, excerpt)
    if answer.status_code == 410:
        reason = f"the receiver answered 410 Gone at {context.now.isoformat()}"
        now = context.now
        run_write(context.engine, lambda conn: service.disable(conn, name, reason=reason, now=now))
        return Outcome(False, 410, excerpt, final=True)
    return Outcome(False, answer.status_code, excerpt)
