"""The team-feed page, /feed: the newest messages, then each new one as it arrives (its JSON
twins are GET /api/feed/messages and the stream GET /api/feed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hxpulse.deps import ConnDep, FeedRead
from hxpulse.feeds import service
from hxpulse.web.render import page

router = APIRouter()


@router.get("/feed")
def feed_page(request: Request, actor: FeedRead, conn: ConnDep) -> Response:
    teams = service.teams_for(conn, actor_kind=actor.kind, actor_id=actor.id)
    items = service.named(conn, service.recent(conn, teams=teams, limit=50),
                          sees_customers=actor.can("customers:read"))  # fmt: skip
    return page(request, "feed.html", items=items, latest=items[0]["id"] if items else 0,
                types=service.TEAM_TYPES)  # fmt: skip
