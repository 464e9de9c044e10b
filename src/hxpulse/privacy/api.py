"""JSON routes for customers' data: consent, export, erasure, and the erasure requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import (
    ConnDep,
    ConsentWrite,
    CustomerRef,
    CustomersErase,
    CustomersExport,
    CustomersRead,
    EngineDep,
    SettingsDep,
    who,
)
from hxpulse.privacy import service
from hxpulse.privacy.export_schema import CustomerExport
from hxpulse.privacy.schemas import ConsentRead, ConsentUpdate, ErasureRead, RequestList

router = APIRouter(prefix="/api", tags=["privacy"])


@router.get("/customers/{ref}/consent", response_model=ConsentRead)
def get_consent(ref: CustomerRef, conn: ConnDep, _actor: CustomersRead) -> dict[str, Any]:
    """The customer's consent per purpose: answer, source, time, and whether it is allowed."""
    return service.consent_of(conn, queries.find(conn, ref))


@router.put("/customers/{ref}/consent", response_model=ConsentRead)
def put_consent(
    ref: CustomerRef, body: ConsentUpdate, request: Request, engine: EngineDep, actor: ConsentWrite
) -> dict[str, Any]:
    """Record the customer's answers for the purposes given (granted or denied); the others
    keep theirs. Each change is audited with the actor as its source."""
    author, now = who(request, actor), datetime.now(UTC)

    def work(conn: Any) -> dict[str, Any]:
        customer_id = queries.find(conn, ref)
        return service.set_consent(conn, customer_id, body.changes(), who=author, now=now)

    return run_write(engine, work)


@router.get(
    "/customers/{ref}/export",
    response_model=CustomerExport,  # described only: the route sends the document as a file
    responses={200: {"description": "The customer's document (format hxpulse.customer-export),"
                                    " as a file to save (Content-Disposition: attachment)."}},
)  # fmt: skip
def export_customer(
    ref: CustomerRef, request: Request, conn: ConnDep, engine: EngineDep, actor: CustomersExport
) -> Response:
    """Everything held about the customer as one JSON document (audited: customer.export)."""
    customer_id = queries.find(conn, ref)
    doc = service.export(engine, customer_id, who=who(request, actor), now=datetime.now(UTC),
                         via="api")  # fmt: skip
    return json_download(doc, f"customer-{doc['customer_id']}.json")


def json_download(doc: dict[str, Any], filename: str) -> Response:
    """`doc` as a JSON file to save (datetimes in ISO 8601)."""
    body = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type="application/json", headers=headers)


@router.post("/customers/{ref}/erase", response_model=ErasureRead)
def erase_customer(
    ref: CustomerRef, request: Request, engine: EngineDep, actor: CustomersErase
) -> dict[str, Any]:
    """Erase the customer's personal data, keeping anonymous aggregates, and tombstone their
    identities so they are not brought back (audited: customer.erase). The profile stays as
    an anonymous shell, so this is a POST rather than a DELETE."""
    author, now = who(request, actor), datetime.now(UTC)

    def work(conn: Any) -> dict[str, Any]:
        return service.erase(conn, queries.find(conn, ref), who=author, now=now)

    return run_write(engine, work)


@router.get("/privacy/requests", response_model=RequestList)
def erasure_requests(
    conn: ConnDep, settings: SettingsDep, _actor: CustomersErase
) -> dict[str, Any]:
    """Erasure requests customers made in the preference centre, oldest first, with due days."""
    return {"items": service.pending_requests(conn, due_days=settings.privacy.erasure_days)}
