"""JSON routes for lifetime value: one customer's, and the Value report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from hxpulse import deps
from hxpulse.clv import report, service
from hxpulse.clv.schemas import CustomerValueRead, ValueReport
from hxpulse.customers import queries
from hxpulse.deps import ConnDep, CustomerRef, CustomersRead, SettingsDep, ValueRead

router = APIRouter(prefix="/api", tags=["value"])


@router.get("/customers/{ref}/value", response_model=CustomerValueRead)
def customer_value(ref: CustomerRef, conn: ConnDep, _actor: CustomersRead) -> dict[str, Any]:
    """One customer's lifetime value from the last `hxpulse fit clv`: expected purchases in the
    next 12 months, P(alive), expected spend per purchase, CLV, CLV ÷ first purchase."""
    return service.customer_value(conn, customer_id=queries.find(conn, ref))


@router.get("/value", response_model=ValueReport)
def value_report(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: ValueRead,
    limit: int = Query(20, ge=1, le=200, description="How many top customers."),
) -> dict[str, Any]:
    """The Value report: the fitted model, the CLV distribution, the value at risk (the CLV of
    the at-risk customers now) and the top customers by CLV."""
    return report.report(conn, settings.live, deps.now(request), limit=limit)
