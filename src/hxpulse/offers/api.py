"""JSON routes for offers: the catalogue, the report, a customer's next best offers, answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from sqlalchemy import Connection

from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import (
    ConnDep,
    CustomerRef,
    EngineDep,
    OffersRead,
    OffersServe,
    OffersWrite,
    SettingsDep,
)
from hxpulse.offers import report, service
from hxpulse.offers.schemas import (
    OfferRead,
    OffersReport,
    Recommendations,
    ResponseIn,
    ResponseRead,
)
from hxpulse.offers.settings import KEY, OfferIn, OfferUpdate

router = APIRouter(prefix="/api", tags=["offers"])
OfferKey = Annotated[str, PathParam(pattern=KEY, description="The offer's key.")]


def _now(request: Request) -> Any:
    return request.app.state.clock()


@router.get("/offers", response_model=list[OfferRead])
def list_offers(
    conn: ConnDep,
    _actor: OffersRead,
    active: bool | None = Query(None, description="Only active (true) or inactive (false)."),
) -> list[dict[str, Any]]:
    """The offer catalogue, oldest first."""
    return service.get_all(conn, active=active)


@router.post("/offers", response_model=OfferRead, status_code=201)
def create_offer(
    request: Request, body: OfferIn, engine: EngineDep, _actor: OffersWrite
) -> dict[str, Any]:
    """Add an offer to the catalogue (409 when its key is taken)."""
    return run_write(engine, lambda conn: service.create(conn, body, now=_now(request)))


@router.get("/offers/report", response_model=OffersReport)
def offers_report(
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: OffersRead
) -> dict[str, Any]:
    """Per offer and overall: offers shown, acceptance and revenue per offer shown, the model
    against the holdout with 95% intervals, and the uplift."""
    return report.report(conn, settings, now=_now(request))


@router.get("/offers/{key}", response_model=OfferRead)
def get_offer(key: OfferKey, conn: ConnDep, _actor: OffersRead) -> dict[str, Any]:
    """One offer."""
    return service.get(conn, key)


@router.patch("/offers/{key}", response_model=OfferRead)
def update_offer(
    request: Request, key: OfferKey, body: OfferUpdate, engine: EngineDep, _actor: OffersWrite
) -> dict[str, Any]:
    """Change an offer: only the fields given."""
    return run_write(engine, lambda conn: service.update_offer(conn, key, body,
                                                               now=_now(request)))  # fmt: skip


@router.post("/offers/{key}/deactivate", response_model=OfferRead)
def deactivate_offer(
    request: Request, key: OfferKey, engine: EngineDep, _actor: OffersWrite
) -> dict[str, Any]:
    """Stop serving an offer (its exposures and report stay)."""
    return run_write(engine, lambda conn: service.deactivate(conn, key, now=_now(request)))


@router.get("/customers/{ref}/offers", response_model=Recommendations)
def customer_offers(
    request: Request,
    ref: CustomerRef,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: OffersServe,
    context: str | None = Query(
        None, min_length=1, max_length=200, description="The latest event's type, or an item."
    ),
    n: int | None = Query(None, ge=1, le=20, description="How many (default: offers_shown)."),
    record: bool = Query(True, description="Log each offer as shown (false: only a look)."),
) -> dict[str, Any]:
    """The customer's next best offers, each with its score, reason and arm; each one shown is
    logged as an exposure (an `offer_shown` investment in the pulse) unless `record=false`."""
    now = _now(request)

    def work(conn: Connection) -> dict[str, Any]:
        customer_id = queries.find(conn, ref)
        return service.recommend(conn, settings, customer_id, now=now, context=context, n=n,
                                 record=record)  # fmt: skip

    return run_write(engine, work)


@router.post("/customers/{ref}/offers/responses", response_model=ResponseRead, status_code=201)
def respond(
    request: Request,
    ref: CustomerRef,
    body: ResponseIn,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: OffersServe,
) -> dict[str, Any]:
    """Record the customer's answer to an offer shown (accepted: a return in the pulse)."""
    now = _now(request)

    def work(conn: Connection) -> dict[str, Any]:
        customer_id = queries.find(conn, ref)
        return service.record_response(conn, settings, customer_id=customer_id,
                                       response=body.response, now=now,
                                       exposure_id=body.exposure_id, offer=body.offer,
                                       revenue=body.revenue)  # fmt: skip

    return run_write(engine, work)
