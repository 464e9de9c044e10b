"""One live-feed subscription as a stream of Server-Sent Events.

The stream polls `feed_messages` by id every `[feeds] poll_ms` (an index range scan that
usually finds nothing), so a message written by any process reaches every subscriber of any
process within one poll. Each message is an event with `id` (the row id), `event` (its type)
and `data` (its JSON). The stream ends when the client goes away, when `[feeds]
stream_seconds` have passed (EventSource reconnects by itself, sending `Last-Event-ID`), and,
for a customer's token, when the token expires: then with a last `token_expired` event so the
page knows to fetch a new token instead of reconnecting with the old one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import orjson
from sqlalchemy import Connection, Engine
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hxpulse.config import FeedSettings
from hxpulse.errors import Invalid
from hxpulse.feeds.recent import Recent

RETRY_MS = 1000  # how soon EventSource reconnects after a stream ends
Fetch = Callable[[Connection, int, int], list[dict[str, Any]]]  # (conn, after, limit)
Match = Callable[[dict[str, Any]], bool]  # whether a row of `service.since_any` is the feed's
Present = Callable[[Connection, list[dict[str, Any]]], list[dict[str, Any]]]  # rows as sent


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one stream reads: `match` picks its messages from `recent`, `fetch` reads them
    from the database (after an id, at most a limit); `after` is where it starts (None: after
    the newest message, i.e. only what comes next); `present`, if given, turns each batch
    read into what is sent, at send time (the team feed names its customers)."""

    engine: Engine
    recent: Recent
    match: Match
    fetch: Fetch
    after: int | None
    settings: FeedSettings
    clock: Callable[[], datetime]
    expires_at: datetime | None = None  # the token's expiry, for a customer's feed
    present: Present | None = None


def position(header: str | None, query: int | None) -> int | None:
    """Where a subscriber resumes: the `Last-Event-ID` header (sent by EventSource on every
    reconnection, so newer than the URL's `last_event_id`) or the query parameter."""
    if header is None or not header.strip():
        return query
    value = header.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise Invalid("Last-Event-ID: the id of the last message received, a whole number",
                      errors=[{"field": "Last-Event-ID", "message": "not an id"}])  # fmt: skip
    return int(value)


def response(request: Request, subscription: Subscription) -> EventSourceResponse:
    """The streaming answer for `subscription`."""
    return EventSourceResponse(
        _events(request, subscription),
        ping=subscription.settings.ping_seconds,
        headers={"X-Accel-Buffering": "no"},  # a proxy in front must not hold events back
    )


async def _events(request: Request, sub: Subscription) -> AsyncIterator[ServerSentEvent]:
    cursor = sub.after if sub.after is not None else await run_in_threadpool(sub.recent.position)
    yield ServerSentEvent(comment="hxpulse live feed", retry=RETRY_MS)
    ends = time.monotonic() + sub.settings.stream_seconds  # the connection's own lifetime
    pause = sub.settings.poll_ms / 1000
    while not await request.is_disconnected():
        rows, cursor = await run_in_threadpool(_read, sub, cursor)
        for row in rows:
            yield ServerSentEvent(orjson.dumps(row["data"]).decode(), event=str(row["type"]),
                                  id=str(row["id"]))  # fmt: skip
        now = sub.clock()
        if sub.expires_at is not None and now >= sub.expires_at:
            yield ServerSentEvent('{"reason": "the token expired: ask for a new one"}',
                                  event="token_expired")  # fmt: skip
            return
        if time.monotonic() >= ends:
            return
        if len(rows) < sub.settings.batch:
            await anyio.sleep(pause)


def _read(sub: Subscription, after: int) -> tuple[list[dict[str, Any]], int]:
    """The stream's next messages (as `present` makes them) and its position after them."""
    limit = sub.settings.batch
    held = sub.recent.after(after, sub.match, limit)
    if held is not None and (not held[0] or sub.present is None):
        return held
    newest = sub.recent.position() if held is None else 0  # read before: all up to it committed
    with sub.engine.connect() as conn:
        rows, position = held if held is not None else _fetch(sub, conn, after, newest)
        if sub.present is not None and rows:
            rows = sub.present(conn, rows)
    return rows, position


def _fetch(
    sub: Subscription, conn: Connection, after: int, newest: int
) -> tuple[list[dict[str, Any]], int]:
    """The feed's messages after `after` from the database, and the position after them."""
    rows = sub.fetch(conn, after, sub.settings.batch)
    if len(rows) < sub.settings.batch:  # all of this feed's messages up to `newest`: skip to it
        return rows, max(newest, int(rows[-1]["id"]) if rows else after)
    return rows, int(rows[-1]["id"])
