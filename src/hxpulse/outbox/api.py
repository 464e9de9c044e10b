"""JSON routes for deliveries: the twins of the Deliveries page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hxpulse import deps
from hxpulse.db.base import MAX_ID
from hxpulse.db.engine import run_write
from hxpulse.deps import DbId, DeliveriesRead, DeliveriesReplay, EngineDep
from hxpulse.outbox import queries
from hxpulse.outbox import service as outbox
from hxpulse.outbox.schemas import DeliveryList, DeliveryRead, Replayed, ReplayFilter, Status

router = APIRouter(prefix="/api/deliveries", tags=["deliveries"])


@router.get("", response_model=DeliveryList)
def list_deliveries(
    engine: EngineDep,
    _actor: DeliveriesRead,
    status: Status | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    endpoint: Annotated[str | None, Query(max_length=100, description="A webhook's name.")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Page on.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Outbox deliveries newest first, filtered, with the counts of pending, done and dead."""
    filters = queries.Filters(status, kind, endpoint, customer_id)
    with engine.connect() as conn:
        items = queries.deliveries(conn, filters, limit=limit, before_id=before_id)
        return {"items": items, "counts": queries.counts(conn)}


@router.get("/{delivery_id}", response_model=DeliveryRead)
def get_delivery(delivery_id: DbId, engine: EngineDep, _actor: DeliveriesRead) -> dict[str, Any]:
    """One delivery with its payload and every try (status, answer, error, duration)."""
    with engine.connect() as conn:
        return queries.get(conn, delivery_id)


@router.post("/replay", response_model=Replayed)
def replay_many(
    body: ReplayFilter, request: Request, engine: EngineDep, actor: DeliveriesReplay
) -> dict[str, Any]:
    """Replay in bulk: every dead delivery (or done, or those of a kind, endpoint, customer)."""
    who, now = deps.who(request, actor), deps.now(request)
    filters = queries.Filters(body.status, body.kind, body.endpoint, body.customer_id)
    return {"replayed": run_write(engine, lambda conn: outbox.replay(
        conn, queries.ids(conn, filters), now=now, who=who))}  # fmt: skip


@router.post("/{delivery_id}/replay", response_model=Replayed)
def replay_one(
    delivery_id: DbId, request: Request, engine: EngineDep, actor: DeliveriesReplay
) -> dict[str, Any]:
    """Try a dead (or done) delivery again now, with a fresh retry window."""
    who, now = deps.who(request, actor), deps.now(request)

    def work(conn: Any) -> int:
        queries.get(conn, delivery_id)  # 404 for an unknown one
        return outbox.replay(conn, [delivery_id], now=now, who=who)

    return {"replayed": run_write(engine, work)}
