"""The live feeds' routes: a customer's feed and its token, and the team feed.

The two streams (`GET /api/customers/{ref}/feed`, `GET /api/feed`) answer `text/event-stream`,
not JSON, and never end on their own terms within a request timeout: they are left out of
the API description (which holds JSON routes a fuzzer can call) and described in
docs/architecture.md, Live feeds and email.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse

from hxpulse.customers import queries
from hxpulse.customers.queries import live_id
from hxpulse.db.base import MAX_ID
from hxpulse.deps import (
    ConnDep,
    CustomerRef,
    EngineDep,
    FeedRead,
    FeedToken,
    SettingsDep,
    now,
)
from hxpulse.errors import Forbidden, HXError, NotFound, Unauthorized
from hxpulse.feeds import actions, service, stream
from hxpulse.feeds.schemas import FeedMessages, FeedTokenRead
from hxpulse.web.signed import LinkError

router = APIRouter(prefix="/api", tags=["feeds"])
LastEventId = Annotated[
    int | None,
    Query(ge=0, le=MAX_ID, description="Resume after this message id (0: from the oldest)."),
]
LastEventHeader = Annotated[str | None, Header(alias="last-event-id", max_length=40)]
FEED_PATH = "/api/customers/{ref}/feed"
CORS_PATHS = re.compile(r"/api/customers/[^/]+/feed")  # pages of any origin may follow it


@router.post("/customers/{ref}/feed-token", response_model=FeedTokenRead)
def feed_token(
    ref: CustomerRef, request: Request, conn: ConnDep, settings: SettingsDep, _actor: FeedToken
) -> dict[str, Any]:
    """Issue a short-lived token for the customer's live feed (call it from your backend)."""
    customer_id = queries.find(conn, ref)
    found = actions.recipient(conn, customer_id)
    if found is None or found.erased:
        raise NotFound(f"customer {customer_id} is erased: there is no feed to follow")
    issued = service.token_for(request.app.state.secret, customer_id, now=now(request),
                               ttl=timedelta(minutes=settings.feeds.token_minutes))  # fmt: skip
    path = FEED_PATH.format(ref=quote(f"id:{customer_id}", safe=":"))
    url = f"{settings.public_url.rstrip('/')}{path}?token={issued.token}"
    return {"token": issued.token, "customer_id": customer_id, "expires_at": issued.expires_at,
            "url": url}  # fmt: skip


@router.get(FEED_PATH.removeprefix("/api"), include_in_schema=False)
def customer_feed(
    ref: CustomerRef,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    token: Annotated[str | None, Query(max_length=400)] = None,
    last_event_id: LastEventId = None,
    last_event_header: LastEventHeader = None,
) -> EventSourceResponse:
    """Follow the customer's own feed (Server-Sent Events), with the token from feed-token."""
    moment = now(request)
    if not token:
        raise Unauthorized("token: send the token from POST /api/customers/{ref}/feed-token"
                           " as ?token=")  # fmt: skip
    try:
        checked = service.check(request.app.state.secret, token, now=moment)
    except LinkError as exc:
        raise Unauthorized(f"token: the feed token is {exc.problem}; ask for a new one") from None
    with engine.connect() as conn:  # no connection held while the stream lasts
        try:
            customer_id: int | None = queries.find(conn, ref)
        except HXError:  # never tell a token's holder who else exists
            customer_id = None
        if customer_id is None or live_id(conn, checked.customer_id) != customer_id:
            raise Forbidden("token: the feed token is for another customer")
        found = actions.recipient(conn, customer_id)
        if found is None or found.erased:  # erased since the token was issued
            raise Forbidden("token: the customer is erased")
    after = stream.position(last_event_header, last_event_id)

    def fetch(c: Any, after_id: int, limit: int) -> list[dict[str, Any]]:
        return service.since(c, scope="customer", customer_id=customer_id, after=after_id,
                             limit=limit)  # fmt: skip

    def match(row: dict[str, Any]) -> bool:
        return service.matches(row, scope="customer", customer_id=customer_id)

    subscription = stream.Subscription(engine, request.app.state.feed_recent, match, fetch,
                                       after, settings.feeds, request.app.state.clock,
                                       checked.expires_at)  # fmt: skip
    return stream.response(request, subscription)


@router.get("/feed", include_in_schema=False)
def team_feed(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: FeedRead,
    last_event_id: LastEventId = None,
    last_event_header: LastEventHeader = None,
) -> EventSourceResponse:
    """Follow the team feed (Server-Sent Events): new cases, breaches, customers at risk; a
    message's `data.customer_name` is its customer's current name (see `service.named`)."""
    with engine.connect() as conn:
        teams = service.teams_for(conn, actor_kind=actor.kind, actor_id=actor.id)
    after = stream.position(last_event_header, last_event_id)

    def fetch(c: Any, after_id: int, limit: int) -> list[dict[str, Any]]:
        return service.since(c, scope="team", teams=teams, after=after_id, limit=limit)

    def match(row: dict[str, Any]) -> bool:
        return service.matches(row, scope="team", teams=teams)

    def present(c: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return service.named(c, rows, sees_customers=actor.can("customers:read"))

    subscription = stream.Subscription(engine, request.app.state.feed_recent, match, fetch,
                                       after, settings.feeds, request.app.state.clock,
                                       present=present)  # fmt: skip
    return stream.response(request, subscription)


@router.get("/feed/messages", response_model=FeedMessages)
def team_messages(
    conn: ConnDep,
    actor: FeedRead,
    limit: Annotated[int, Query(ge=1, le=200, description="How many, newest first.")] = 50,
) -> dict[str, Any]:
    """List the newest team-feed messages you see (the feed page's JSON twin): a message's
    `data.customer_name` is its customer's current name, for those who may see customers."""
    teams = service.teams_for(conn, actor_kind=actor.kind, actor_id=actor.id)
    items = service.recent(conn, teams=teams, limit=limit)
    return {"items": service.named(conn, items, sees_customers=actor.can("customers:read"))}
