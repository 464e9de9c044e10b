"""The customer page's consent and erasure forms, and the admin list of erasure requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse.auth.permissions import Actor
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, EngineDep, SettingsDep, allow, who
from hxpulse.errors import Invalid
from hxpulse.privacy import service
from hxpulse.privacy.consent import PURPOSES
from hxpulse.web import csrf
from hxpulse.web.body import read_limited
from hxpulse.web.render import page

router = APIRouter()
CustomerId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ConsentWriter = Annotated[Actor, Depends(allow("consent:write"))]
Eraser = Annotated[Actor, Depends(allow("customers:erase"))]
MAX_FORM = 16 * 1024


async def _form(request: Request) -> dict[str, str]:
    """A staff form's fields (URL-encoded, small), after its CSRF token is checked."""
    body = await read_limited(request, MAX_FORM)
    fields = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    csrf.check(request, fields.get("csrf_token"))
    return fields


@router.post("/customers/{customer_id}/consent")
async def change_consent(
    request: Request, customer_id: CustomerId, engine: EngineDep, actor: ConsentWriter
) -> Response:
    fields = await _form(request)
    changes = {p: fields[p] for p in PURPOSES if fields.get(p) in ("granted", "denied")}
    author, now = who(request, actor), datetime.now(UTC)

    def work(conn: Connection) -> None:
        service.set_consent(conn, customer_id, changes, who=author, now=now)

    run_write(engine, work)
    return RedirectResponse(f"/customers/{customer_id}#privacy", status_code=303)


@router.post("/customers/{customer_id}/erase")
async def erase_customer(
    request: Request, customer_id: CustomerId, engine: EngineDep, actor: Eraser
) -> Response:
    fields = await _form(request)
    if fields.get("confirm") != "erase":
        raise Invalid("to erase, tick the box that says the erasure cannot be undone")
    author, now = who(request, actor), datetime.now(UTC)
    run_write(engine, lambda conn: service.erase(conn, customer_id, who=author, now=now))
    return RedirectResponse(f"/customers/{customer_id}#privacy", status_code=303)


@router.get("/admin/requests")
def erasure_requests(
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: Eraser
) -> Response:
    items = service.pending_requests(conn, due_days=settings.privacy.erasure_days)
    return page(request, "privacy_requests.html", items=items, now=datetime.now(UTC))
