"""Recording who saw a profile, from a route: the actor of the request, with its address."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from hxpulse.db.engine import run_write
from hxpulse.deps import actor_of, who
from hxpulse.privacy import service


def record_view(request: Request, customer_id: int, *, via: str) -> None:
    """Audit one view of the customer's profile by whoever is asking (`customer.view`)."""
    actor = actor_of(request)
    if actor is None:  # the route's guard lets no anonymous request this far
        return
    author = who(request, actor)
    now = datetime.now(UTC)
    run_write(
        request.app.state.engine,
        lambda conn: service.record_view(conn, customer_id, who=author, via=via, now=now),
    )
