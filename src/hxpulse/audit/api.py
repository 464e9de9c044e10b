"""The audit log as JSON: the twin of the admin page /admin/audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from hxpulse.audit import query
from hxpulse.audit.schemas import AuditPage
from hxpulse.auth.permissions import Actor
from hxpulse.customers import queries
from hxpulse.deps import ConnDep, allow

router = APIRouter(prefix="/api", tags=["audit"])
Auditor = Annotated[Actor, Depends(allow("audit:read"))]
BIGINT = 2**63 - 1
# described for clients (query.parse checks them, naming the field in a 400)
ACTION, ACTOR = r"^[a-z_]+(\.[a-z_]*)?$", r"^(user|key|customer|system)([: ][0-9]{1,18})?$"


def filters(
    conn: ConnDep,
    action: str | None = Query(
        None,
        max_length=60,
        description="customer.view, or customer.",
        json_schema_extra={"pattern": ACTION},
    ),
    actor: str | None = Query(
        None,
        max_length=40,
        description="user:3, key:2, customer, system",
        json_schema_extra={"pattern": ACTOR},
    ),
    customer: str | None = Query(None, max_length=400, description="An id or any identity."),
    since: str | None = Query(None, max_length=40, description="First day (YYYY-MM-DD)."),
    until: str | None = Query(None, max_length=40, description="Last day, included."),
    before: int | None = Query(None, ge=1, le=BIGINT, description="Entries older than this id."),
    limit: int = Query(50, ge=1, le=query.MAX_LIMIT),
) -> query.Filters:
    """The filters of the audit page and its JSON twin."""
    customer_id = queries.find(conn, customer) if customer and customer.strip() else None
    return query.parse(action=action, actor=actor, customer_id=customer_id, since=since,
                       until=until, before=before, limit=limit)  # fmt: skip


FiltersDep = Annotated[query.Filters, Depends(filters)]


@router.get("/audit", response_model=AuditPage)
def audit_log(_actor: Auditor, conn: ConnDep, chosen: FiltersDep) -> dict[str, Any]:
    """Who saw, exported, erased or changed what, newest first; filter by action, actor,
    customer and days; page on with `before`."""
    return query.read(conn, chosen)
