"""What a handler of an outbox action receives and answers (the dispatcher calls them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from hxpulse.config import Settings


@dataclass(frozen=True, slots=True)
class Context:
    """What every handler and job may use: the database, the settings, the dispatcher's clock."""

    engine: Engine
    settings: Settings
    now: datetime
    # the dispatcher's HTTP client (connections kept alive across deliveries); None: make one
    http: httpx.Client | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One try at one outbox row: ids and the payload, never ORM objects."""

    id: int
    key: str  # the idempotency key: receivers see it (a webhook's `webhook-id`)
    kind: str
    customer_id: int | None
    cause: str | None
    payload: dict[str, Any]
    attempt: int  # 1 for the first try
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a try went. `final`: retrying cannot help (e.g. the endpoint was deleted): dead now."""

    ok: bool
    status: int | None = None
    response: str = ""
    final: bool = False


def http_client(timeout: float) -> httpx.Client:
    """The client deliveries use: no redirects followed, no proxies from the environment."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=32)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, limits=limits)


Handler = Callable[[Context, Delivery], Outcome]
Job = Callable[[Context], None]
