"""JSON routes for the pulse: one customer's pulse explained, and who is most at risk now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from hxpulse.customers import queries
from hxpulse.deps import ConnDep, Reader, SettingsDep
from hxpulse.pulse import service

router = APIRouter(prefix="/api", tags=["pulse"])


@router.get("/customers/{ref}/pulse")
def customer_pulse(ref: str, conn: ConnDep, settings: SettingsDep, _who: Reader) -> dict[str, Any]:
    """Return one customer's pulse now with its parts: pulse = investments + returns − decay."""
    customer_id = queries.find(conn, ref)
    return service.explain(conn, settings.pulse, customer_id=customer_id, now=datetime.now(UTC))


@router.get("/pulse/at-risk")
def pulse_at_risk(
    conn: ConnDep, settings: SettingsDep, _who: Reader, limit: int = Query(100, ge=1, le=10_000)
) -> dict[str, Any]:
    """Return the customers with the lowest pulse right now, lowest first."""
    now = datetime.now(UTC)
    return {"as_of": now, "items": service.at_risk(conn, settings.pulse, limit=limit, now=now)}
