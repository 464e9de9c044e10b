"""JSON routes for the journey: the funnel, and one customer's stage and its history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from hxpulse.customers import queries
from hxpulse.deps import ConnDep, CustomerRef, CustomersRead, ReportsRead, SettingsDep
from hxpulse.journey import funnel, service
from hxpulse.journey.schemas import CustomerJourney, Funnel

router = APIRouter(prefix="/api", tags=["journey"])


@router.get("/journey/funnel", response_model=Funnel)
def journey_funnel(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: ReportsRead,
    start: str | None = Query(
        None, max_length=40, description="First day (YYYY-MM-DD) or moment; default: all time."
    ),
    end: str | None = Query(
        None, max_length=40, description="Last day, included (YYYY-MM-DD), or moment, excluded."
    ),
    channel: str | None = Query(None, max_length=20, description="Only entries through it."),
    department: str | None = Query(None, max_length=100, description="Only entries through it."),
) -> dict[str, Any]:
    """Per stage: customers who entered it in the range, how many of them went on to a higher
    stage (the conversion) and the median days that took, and how many are at it now (at
    risk, lapsed)."""
    query = funnel.funnel_query(start, end, channel, department)
    return funnel.funnel(conn, settings.live, start=query.start, end=query.end,
                          channel=query.channel, department=query.department,
                          now=datetime.now(UTC))  # fmt: skip


@router.get("/customers/{ref}/journey", response_model=CustomerJourney)
def customer_journey(
    ref: CustomerRef, conn: ConnDep, settings: SettingsDep, _actor: CustomersRead
) -> dict[str, Any]:
    """One customer's stage, since when, the at-risk and lapsed overlays, and every change of
    stage with the event that caused it; `ref` is any identity or `id:N` (internal id)."""
    customer_id = queries.find(conn, ref)
    return service.customer_journey(conn, settings.live, customer_id=customer_id,
                                    now=datetime.now(UTC))  # fmt: skip
