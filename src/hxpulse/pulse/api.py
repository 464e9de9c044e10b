"""JSON routes for the pulse: one customer's pulse explained and its curve; who is at risk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from hxpulse.customers import queries
from hxpulse.deps import ConnDep, CustomersRead, PulseRead, SettingsDep
from hxpulse.events.moments import Moment
from hxpulse.pulse import service

router = APIRouter(prefix="/api", tags=["pulse"])


@router.get("/customers/{ref}/pulse")
def customer_pulse(
    ref: str, conn: ConnDep, settings: SettingsDep, _actor: CustomersRead
) -> dict[str, Any]:
    """One customer's pulse now: pulse = investments + returns − decay, with band, trend (change
    over 30 days), stage, overlays and the events that contribute most."""
    customer_id = queries.find(conn, ref)
    return service.explain(conn, settings.live, customer_id=customer_id, now=datetime.now(UTC))


@router.get("/customers/{ref}/pulse/history")
def customer_pulse_history(
    ref: str,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    start: Moment | None = Query(None, description="Default: the customer's first event."),
    end: Moment | None = Query(None, description="Default: now."),
    points: int = Query(120, ge=2, le=2000),
) -> dict[str, Any]:
    """The pulse curve over a window, reconstructed from the customer's events."""
    customer_id = queries.find(conn, ref)
    until = end or datetime.now(UTC)
    since = start
    curve = service.history(
        conn, settings.pulse, customer_id=customer_id, start=since, end=until, points=points
    )
    return {"customer_id": customer_id, "points": curve}


@router.get("/pulse/at-risk")
def pulse_at_risk(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: PulseRead,
    limit: int = Query(100, ge=1, le=10_000),
) -> dict[str, Any]:
    """The customers with the lowest pulse right now, lowest first (an index scan)."""
    now = datetime.now(UTC)
    return {"as_of": now, "items": service.at_risk(conn, settings.pulse, limit=limit, now=now)}


@router.get("/pulse/bands")
def pulse_bands(conn: ConnDep, settings: SettingsDep, _actor: PulseRead) -> dict[str, Any]:
    """How many customers are in each band now, and the spread of pulse."""
    now = datetime.now(UTC)
    return {"as_of": now, "bands": service.bands(conn, settings.pulse, now),
            "distribution": service.distribution(conn, settings.pulse, now)}  # fmt: skip


@router.get("/pulse/movers")
def pulse_movers(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: PulseRead,
    days: int = Query(7, ge=1, le=365),
    limit: int = Query(10, ge=1, le=100),
) -> dict[str, Any]:
    """The customers whose pulse rose and fell most over the last `days`."""
    now = datetime.now(UTC)
    return {"as_of": now, "days": days,
            **service.movers(conn, settings.pulse, now, days=days, limit=limit)}  # fmt: skip
