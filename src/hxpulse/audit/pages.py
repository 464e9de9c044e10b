"""The admin page of the audit log, /admin/audit (its JSON twin is GET /api/audit)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from hxpulse.audit import query
from hxpulse.audit.api import FiltersDep
from hxpulse.auth.permissions import Actor
from hxpulse.deps import ConnDep, allow
from hxpulse.web.render import page

router = APIRouter()
Auditor = Annotated[Actor, Depends(allow("audit:read"))]
KEPT = ("action", "actor", "customer", "since", "until", "limit")


@router.get("/admin/audit")
def audit_page(request: Request, _actor: Auditor, conn: ConnDep, chosen: FiltersDep) -> Response:
    found = query.read(conn, chosen)
    kept = {k: v for k, v in request.query_params.items() if k in KEPT and v}
    older = None
    if found["next_before"] is not None:
        older = "/admin/audit?" + urlencode({**kept, "before": found["next_before"]})
    return page(request, "audit.html", items=found["items"], older=older, filters=kept,
                actions=query.ACTIONS)  # fmt: skip
