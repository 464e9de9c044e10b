"""The Deliveries page: pending, done and dead deliveries, dead letters with their last
answer, one delivery with every try; replay one or every dead one (CSRF-checked forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse import deps
from hxpulse.db.base import MAX_ID
from hxpulse.db.engine import run_write
from hxpulse.deps import DbId, DeliveriesRead, DeliveriesReplay, EngineDep
from hxpulse.outbox import queries
from hxpulse.outbox import service as outbox
from hxpulse.outbox.schemas import Status
from hxpulse.web import csrf
from hxpulse.web.render import page

router = APIRouter()
Token = Annotated[str, Form()]
PER_PAGE = 50


@router.get("/deliveries")
def deliveries_page(
    request: Request,
    engine: EngineDep,
    _actor: DeliveriesRead,
    status: Status | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    endpoint: Annotated[str | None, Query(max_length=100)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    replayed: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    filters = queries.Filters(status, kind or None, endpoint or None)
    with engine.connect() as conn:
        items = queries.deliveries(conn, filters, limit=PER_PAGE + 1, before_id=before)
        counts = queries.counts(conn)
    return page(request, "deliveries.html", items=items[:PER_PAGE], counts=counts,
                status=status, kind=kind or "", endpoint=endpoint or "",
                next_before=items[PER_PAGE - 1]["id"] if len(items) > PER_PAGE else None,
                replayed=replayed)  # fmt: skip


@router.get("/deliveries/{delivery_id}")
def delivery_page(
    request: Request, delivery_id: DbId, engine: EngineDep, _actor: DeliveriesRead
) -> Response:
    with engine.connect() as conn:
        found = queries.get(conn, delivery_id)
    return page(request, "delivery.html", delivery=found)


@router.post("/deliveries/{delivery_id}/replay")
def replay_one(
    request: Request, delivery_id: DbId, engine: EngineDep, actor: DeliveriesReplay,
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    csrf.check(request, csrf_token)
    who, now = deps.who(request, actor), deps.now(request)

    def work(conn: Connection) -> int:
        queries.get(conn, delivery_id)  # 404 for an unknown one
        return outbox.replay(conn, [delivery_id], now=now, who=who)

    run_write(engine, work)
    return RedirectResponse(f"/deliveries/{delivery_id}", status_code=303)


@router.post("/deliveries/replay")
def replay_dead(
    request: Request,
    engine: EngineDep,
    actor: DeliveriesReplay,
    kind: Annotated[str, Form(max_length=40)] = "",
    endpoint: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Token = "",
) -> Response:
    """Replay every dead delivery (of a kind or endpoint, when given)."""
    csrf.check(request, csrf_token)
    who, now = deps.who(request, actor), deps.now(request)
    filters = queries.Filters("dead", kind or None, endpoint or None)
    count = run_write(engine, lambda conn: outbox.replay(
        conn, queries.ids(conn, filters), now=now, who=who))  # fmt: skip
    return RedirectResponse(f"/deliveries?status=pending&replayed={count}", status_code=303)
