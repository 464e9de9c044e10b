"""JSON routes for the pulse: one customer's pulse explained and its curve; who is at risk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from hxpulse.customers import queries
from hxpulse.deps import ConnDep, CustomerRef, CustomersRead, PulseRead, SettingsDep
from hxpulse.events.moments import Moment
from hxpulse.pulse import bands, service
from hxpulse.pulse.asof import parse_as_of
from hxpulse.pulse.schemas import AtRisk, CustomerPulse, PulseBands, PulseHistory, PulseMovers

router = APIRouter(prefix="/api", tags=["pulse"])
AS_OF = "A day (YYYY-MM-DD: its end) or an ISO 8601 moment, from 1970-01-01 to now + 1 day."
LISTS_AS_OF = AS_OF + " Lists read the stored pulse: a moment before the latest event is a 400."


@router.get("/customers/{ref}/pulse", response_model=CustomerPulse)
def customer_pulse(
    ref: CustomerRef,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    as_of: str | None = Query(None, description=AS_OF + " Default: now."),
) -> dict[str, Any]:
    """One customer's pulse now or as of a moment: pulse = investments + returns − decay, with
    band, trend (change over 30 days), stage, overlays and the events that contribute most;
    `ref` is any identity or `id:N` (internal id)."""
    now = datetime.now(UTC)
    moment = parse_as_of(as_of, now=now)
    customer_id = queries.find(conn, ref)
    return service.explain(conn, settings.live, customer_id=customer_id, now=now, as_of=moment)


@router.get("/customers/{ref}/pulse/history", response_model=PulseHistory)
def customer_pulse_history(
    ref: CustomerRef,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    start: Moment | None = Query(None, description="Default: the customer's first event."),
    end: Moment | None = Query(None, description="The curve's as-of moment. Default: now."),
    points: int = Query(120, ge=2, le=2000),
) -> dict[str, Any]:
    """The pulse curve over a window, reconstructed from the customer's events up to `end`."""
    now = datetime.now(UTC)
    customer_id = queries.find(conn, ref)
    curve = service.history(conn, settings.pulse, customer_id=customer_id, start=start,
                            end=end or now, points=points, now=now)  # fmt: skip
    return {"customer_id": customer_id, "points": curve}


@router.get("/pulse/at-risk", response_model=AtRisk)
def pulse_at_risk(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: PulseRead,
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=10_000_000),
    as_of: str | None = Query(None, description=LISTS_AS_OF + " Default: now."),
) -> dict[str, Any]:
    """The at-risk customers now (or as of a moment), with why: the relationships with the
    most to lose first; `total` counts them all, `limit` and `offset` page through them."""
    now = datetime.now(UTC)
    moment = parse_as_of(as_of, now=now)
    return bands.at_risk_list(conn, settings.live, now, limit=limit, offset=offset, as_of=moment)


@router.get("/pulse/bands", response_model=PulseBands)
def pulse_bands(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: PulseRead,
    as_of: str | None = Query(None, description=LISTS_AS_OF + " Default: now."),
) -> dict[str, Any]:
    """How many customers are in each band now (or as of a moment), and the spread of pulse."""
    now = datetime.now(UTC)
    moment = parse_as_of(as_of, now=now)
    counts = bands.counts(conn, settings.live, now, moment)
    spread = service.distribution(conn, settings.pulse, now, as_of=moment)
    return {"as_of": moment or now, "bands": counts, "distribution": spread}


@router.get("/pulse/movers", response_model=PulseMovers)
def pulse_movers(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: PulseRead,
    days: int = Query(7, ge=1, le=365),
    limit: int = Query(10, ge=1, le=100),
    as_of: str | None = Query(None, description=AS_OF + " Default: now."),
) -> dict[str, Any]:
    """The customers whose pulse rose and fell most over the `days` before now (or a moment)."""
    now = datetime.now(UTC)
    moment = parse_as_of(as_of, now=now)
    moved = service.movers(conn, settings.pulse, now, days=days, limit=limit, as_of=moment)
    return {"as_of": moment or now, "days": days, **moved}
