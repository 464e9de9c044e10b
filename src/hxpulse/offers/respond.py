"""The ingest step that closes the loop: an `offer_accepted` or `offer_declined` event answers
the exposure it names, and an acceptance counts for the bandit.

An event names its exposure by `properties.exposure_id`; else by `properties.offer` (the
offer's key: the customer's latest unanswered exposure of it); else it answers the customer's
latest unanswered exposure. An exposure is answered once (a second answer changes nothing);
exposures of profiles merged into the customer count as theirs.
An accepted offer's revenue is the event's `value`, else `properties.revenue`, else the
offer's `value`. The pulse counts the event itself by its weight (`offer_accepted` is a
return). An exposure not answered within `offers_ignored_after_hours` reads as ignored.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, select, update

from hxpulse.events.batch import Batch
from hxpulse.events.schemas import EventIn
from hxpulse.offers.models import Exposure, Offer, OfferArm
from hxpulse.offers.settings import RESPONSES

exposures_t = cast(Table, Exposure.__table__)
offers_t = cast(Table, Offer.__table__)
arms_t = cast(Table, OfferArm.__table__)


def step(batch: Batch) -> None:
    """The ingest step (module doc): one dict lookup per event when none is a response."""
    canonical = batch.live.pulse.canonical
    found = [(i, RESPONSES[t]) for i, e in enumerate(batch.events)
             if (t := canonical(e.type)) in RESPONSES]  # fmt: skip
    if not found:
        return
    from hxpulse.offers.arms import bump

    for index, response in found:
        event = batch.events[index]
        hit = _exposure(batch.conn, batch.owners[index], event)
        if hit is None:
            continue
        revenue = _revenue(event, hit) if response == "accepted" else 0.0
        x = exposures_t.c
        answered = batch.conn.execute(
            update(exposures_t).where(x.id == hit.id, x.response.is_(None))
            .values(response=response, responded_at=event.occurred_at, revenue=revenue)
        ).rowcount  # fmt: skip
        if answered and response == "accepted":
            bump(batch.conn, [(int(hit.offer_id), str(hit.segment))], accepted=1)


def _exposure(conn: Connection, customer_id: int, event: EventIn) -> Any:
    from hxpulse.customers.models import Customer

    c = cast(Table, Customer.__table__).c
    merged = select(c.id).where(c.merged_into_id == customer_id)
    x, o = exposures_t.c, offers_t.c
    query = (select(x.id, x.offer_id, x.segment, o.value.label("offer_value"))
             .join(offers_t, o.id == x.offer_id)
             .where((x.customer_id == customer_id) | x.customer_id.in_(merged)))  # fmt: skip
    named = event.properties.get("exposure_id")
    if isinstance(named, int | str) and str(named).isdigit():
        return conn.execute(query.where(x.id == int(named))).first()
    query = query.where(x.response.is_(None))
    offer = event.properties.get("offer")
    if isinstance(offer, str):
        query = query.where(o.key == offer)
    return conn.execute(query.order_by(x.shown_at.desc(), x.id.desc()).limit(1)).first()


def _revenue(event: EventIn, hit: Any) -> float:
    for given in (event.value, event.properties.get("revenue")):
        if isinstance(given, int | float) and not isinstance(given, bool) and given >= 0:
            return float(given)
    return float(hit.offer_value or 0.0)
