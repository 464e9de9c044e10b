"""HTML for offers: the Offers page (the catalogue, the report, adding and deactivating) and
the customer page's Offers card."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, EngineDep, OffersRead, OffersWrite, SettingsDep
from hxpulse.errors import HXError
from hxpulse.offers import fitting, report, service
from hxpulse.offers.settings import KEY
from hxpulse.web import csrf
from hxpulse.web.render import page

router = APIRouter()
KINDS = ("product", "content", "incentive", "access")
RECENT = 5  # offers shown listed on the customer page


def customer_panel(conn: Any, settings: Any, customer_id: int, now: Any) -> dict[str, Any]:
    """The customer page's Offers card: what they would be offered now (a look, not logged as
    shown: the bandit draws again on each look) and the latest offers shown, with answers."""
    look = service.recommend(conn, settings, customer_id, now=now, record=False)
    recent = service.exposures(conn, customer_id, limit=RECENT)
    names = service.names(conn, {e["offer"] for e in recent})
    return {**look, "recent": [{**e, "name": names.get(e["offer"], e["offer"])} for e in recent],
            "shown": service.exposure_count(conn, customer_id)}  # fmt: skip


def _chart(r: dict[str, Any]) -> dict[str, Any]:
    """Acceptance per offer, model against holdout, with their intervals (for Plotly)."""
    chart: dict[str, Any] = {"keys": [o["key"] for o in r["offers"]]}
    for arm in ("model", "holdout"):
        rates = [o[arm]["acceptance"] for o in r["offers"]]
        chart[arm] = {"rate": [x["estimate"] for x in rates],
                      "plus": [None if x["high"] is None else x["high"] - x["estimate"]
                               for x in rates],
                      "minus": [None if x["low"] is None else x["estimate"] - x["low"]
                                for x in rates]}  # fmt: skip
    return chart


def _render(request: Request, conn: Any, settings: Any, status: int = 200,
            errors: list[dict[str, Any]] | None = None, form: dict[str, str] | None = None
            ) -> Response:  # fmt: skip
    got = report.report(conn, settings, now=request.app.state.clock())
    return page(request, "offers.html", status_code=status, offers=service.get_all(conn),
                report=got, chart=_chart(got), kinds=KINDS, errors=errors or [],
                form=form or {}, model=fitting.status(conn))  # fmt: skip


@router.get("/offers")
def offers_page(request: Request, conn: ConnDep, settings: SettingsDep, _actor: OffersRead
                ) -> Response:  # fmt: skip
    return _render(request, conn, settings)


@router.post("/offers")
def add_offer(
    request: Request,
    conn: ConnDep,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: OffersWrite,
    key: Annotated[str, Form(max_length=80)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "product",
    item: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=40)] = "0",
    cost: Annotated[str, Form(max_length=40)] = "0",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The page's form: add an offer, back to the page (the form again with the fields at
    fault)."""
    csrf.check(request, csrf_token)
    form = {"key": key, "name": name, "kind": kind, "item": item, "value": value, "cost": cost}
    raw: dict[str, Any] = {"key": key, "name": name, "kind": kind, "item": item or None,
                           "value": value or "0", "cost": cost or "0"}  # fmt: skip
    try:
        offer = service.parse(raw)
        run_write(engine, lambda c: service.create(c, offer, now=request.app.state.clock()))
    except HXError as exc:
        errors = exc.errors or [{"field": "offer", "message": exc.message}]
        return _render(request, conn, settings, 400 if exc.status_code == 400 else exc.status_code,
                       errors, form)  # fmt: skip
    return RedirectResponse("/offers", status_code=303)


@router.post("/offers/{key}/deactivate")
def deactivate(
    request: Request,
    key: Annotated[str, Path(pattern=KEY)],
    engine: EngineDep,
    _actor: OffersWrite,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The page's button: stop serving an offer."""
    csrf.check(request, csrf_token)
    run_write(engine, lambda c: service.deactivate(c, key, now=request.app.state.clock()))
    return RedirectResponse("/offers", status_code=303)
