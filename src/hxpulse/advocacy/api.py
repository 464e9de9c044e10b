"""JSON routes for advocacy: the report, a person's ask, and the public referral link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from starlette.responses import RedirectResponse

from hxpulse.advocacy import report, service
from hxpulse.advocacy.schemas import AdvocacyReport, AskCreate, AskRead
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import AdvocacyAsk, AdvocacyRead, ConnDep, CustomerRef, EngineDep, SettingsDep

router = APIRouter(prefix="/api", tags=["advocacy"])
public = APIRouter(tags=["advocacy"])


@router.get("/advocacy", response_model=AdvocacyReport)
def advocacy_report(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: AdvocacyRead,
    since: str | None = Query(None, max_length=40, description="First day (YYYY-MM-DD)."),
    until: str | None = Query(None, max_length=40, description="Last day, included."),
    channel: str | None = Query(None, max_length=20, description="Only events in it."),
    department: str | None = Query(None, max_length=100, description="Only events of it."),
) -> dict[str, Any]:
    """Promoters, the ask rate among them, asks → referrals, referred customers and their
    revenue, reviews and shares per platform, and the top advocates."""
    return report.report(conn, settings, report.query(since, until, channel, department))


@router.post("/customers/{ref}/asks", response_model=AskRead, status_code=201)
def ask_customer(
    ref: CustomerRef, body: AskCreate, engine: EngineDep, settings: SettingsDep, actor: AdvocacyAsk
) -> dict[str, Any]:
    """Record that you asked the customer for a referral or a review (a `referral_ask`
    investment in their pulse); answers their referral code and link."""
    now = datetime.now(UTC)

    def work(conn: Any) -> dict[str, Any]:
        customer_id = queries.find(conn, ref)
        return service.record_ask(conn, settings, customer_id=customer_id, channel=body.channel,
                                  by=actor.label, now=now, note=body.note)  # fmt: skip

    return run_write(engine, work)


@public.get("/r/{code}", status_code=303, response_class=RedirectResponse)
def follow_referral(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    code: str = PathParam(max_length=40, description="A customer's referral code."),
) -> RedirectResponse:
    """Follow a referral link: record the click on the referrer (nothing about the visitor),
    set the `hx_ref` cookie and send the visitor to the landing URL."""
    service.record_click(engine, settings, code=code, now=datetime.now(UTC))
    checked = service.normal_code(code) or ""
    days = settings.advocacy.cookie_days
    answer = RedirectResponse(settings.advocacy.landing_url, status_code=303)
    answer.set_cookie(service.COOKIE, checked, max_age=int(timedelta(days=days).total_seconds()),
                      httponly=False, samesite="lax",
                      secure=request.url.scheme == "https")  # fmt: skip
    return answer
