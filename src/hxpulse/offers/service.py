"""The offer catalogue (list, create, update, deactivate, `[[offers]]` at start) and serving.

Serving (`recommend`) lives in `offers.serving`, responses in `offers.respond`, the report in
`offers.report`, fitting in `offers.fitting`; this module re-exports `recommend` so callers
have one place to ask.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Connection, Table, func, insert, select, update

from hxpulse.config import Settings
from hxpulse.customers.queries import live_id
from hxpulse.errors import Conflict, Invalid, NotFound
from hxpulse.offers.catalogue import changed
from hxpulse.offers.models import Exposure, Offer
from hxpulse.offers.serving import recommend
from hxpulse.offers.settings import ACCEPTED, DECLINED, OfferIn, OfferUpdate

__all__ = ["create", "deactivate", "get", "get_all", "recommend", "sync_catalogue", "update_offer"]

offers_t = cast(Table, Offer.__table__)
exposures_t = cast(Table, Exposure.__table__)
FIELDS = ("key", "name", "kind", "description", "item", "eligibility", "valid_from",
          "valid_until", "cost", "value", "active")  # fmt: skip


def _read(row: Any) -> dict[str, Any]:
    return {"id": int(row.id), **{f: getattr(row, f) for f in FIELDS},
            "created_at": row.created_at, "updated_at": row.updated_at}  # fmt: skip


def _values(data: OfferIn | OfferUpdate, *, partial: bool) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=partial, exclude={"key"})
    if "eligibility" in values and values["eligibility"] is None:
        values.pop("eligibility")
    return values


def get_all(conn: Connection, *, active: bool | None = None) -> list[dict[str, Any]]:
    """The catalogue in its order (oldest first), optionally only the (in)active offers."""
    query = select(offers_t).order_by(offers_t.c.id)
    if active is not None:
        query = query.where(offers_t.c.active.is_(active))
    return [_read(row) for row in conn.execute(query)]


def get(conn: Connection, key: str) -> dict[str, Any]:
    """The offer `key`; NotFound otherwise."""
    row = conn.execute(select(offers_t).where(offers_t.c.key == key)).first()
    if row is None:
        raise NotFound(f"offer: no offer {key[:80]!r}",
                       errors=[{"field": "key", "message": "no such offer"}])  # fmt: skip
    return _read(row)


def create(conn: Connection, data: OfferIn, *, now: datetime) -> dict[str, Any]:
    """Add an offer; Conflict when its key is taken."""
    taken = conn.execute(select(offers_t.c.id).where(offers_t.c.key == data.key)).first()
    if taken is not None:
        raise Conflict(f"key: an offer {data.key!r} exists already",
                       errors=[{"field": "key", "message": "taken"}])  # fmt: skip
    conn.execute(insert(offers_t).values(key=data.key, created_at=now, updated_at=now,
                                         **_values(data, partial=False)))  # fmt: skip
    changed(conn)
    return get(conn, data.key)


def update_offer(
    conn: Connection, key: str, data: OfferUpdate | OfferIn, *, now: datetime
) -> dict[str, Any]:
    """Change the fields `data` gives (an OfferIn replaces every field)."""
    before = get(conn, key)
    values = _values(data, partial=isinstance(data, OfferUpdate))
    start = values.get("valid_from", before["valid_from"])
    end = values.get("valid_until", before["valid_until"])
    if start is not None and end is not None and end <= start:
        raise Invalid(
            "valid_until: must be after valid_from",  # fmt: skip
            errors=[{"field": "valid_until", "message": "not after valid_from"}],
        )
    if values:
        conn.execute(update(offers_t).where(offers_t.c.key == key)
                     .values(updated_at=now, **values))  # fmt: skip
        changed(conn)
    return get(conn, key)


def deactivate(conn: Connection, key: str, *, now: datetime) -> dict[str, Any]:
    """Stop serving the offer (its exposures and report stay)."""
    return update_offer(conn, key, OfferUpdate(active=False), now=now)


def sync_catalogue(conn: Connection, offers: list[OfferIn], *, now: datetime) -> list[str]:
    """Make the offers of `[[offers]]` match the file (offers not named there are left alone);
    return the keys created or changed."""
    changed = []
    for offer in offers:
        try:
            before = get(conn, offer.key)
        except NotFound:
            create(conn, offer, now=now)
            changed.append(offer.key)
            continue
        wanted = _values(offer, partial=False)
        if any(before[k] != v for k, v in wanted.items()):
            update_offer(conn, offer.key, offer, now=now)
            changed.append(offer.key)
    return changed


def parse(raw: dict[str, Any], where: str = "offer") -> OfferIn:
    """`raw` as an offer; Invalid naming the field at fault."""
    try:
        return OfferIn.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                  for e in exc.errors()]  # fmt: skip
        message = "; ".join(f"{where}.{e['field']}: {e['message']}" for e in errors)
        raise Invalid(message, errors=errors) from None


def record_response(
    conn: Connection,
    settings: Settings,
    *,
    customer_id: int,
    response: str,
    now: datetime,
    exposure_id: int | None = None,
    offer: str | None = None,
    revenue: float | None = None,
) -> dict[str, Any]:
    """Record the customer's answer to an offer shown as an `offer_accepted` or
    `offer_declined` event through the ingest (`offers.respond` answers the exposure there)."""
    from hxpulse.events.schemas import EventIn
    from hxpulse.ingest import ingest_in
    from hxpulse.surveys.service import customer_identities

    x = exposures_t.c
    if exposure_id is not None:
        found = conn.execute(select(x.customer_id).where(x.id == exposure_id)).first()
        if found is None or live_id(conn, int(found.customer_id)) != customer_id:
            problem = [{"field": "exposure_id", "message": "no such exposure"}]
            raise NotFound(f"exposure_id: the customer was not shown exposure {exposure_id}",
                           errors=problem)  # fmt: skip
    if offer is not None:
        get(conn, offer)
    identities = customer_identities(conn, customer_id)
    if not identities:
        raise NotFound(f"customer {customer_id} has no identity (erased?)")
    properties: dict[str, Any] = {"exposure_id": exposure_id, "offer": offer, "revenue": revenue}
    event = EventIn(message_id=f"offer_response:{uuid.uuid4().hex}", kind="track",
                    type=ACCEPTED if response == "accepted" else DECLINED, occurred_at=now,
                    identities=identities, source="offers",
                    properties={k: v for k, v in properties.items() if v is not None})  # fmt: skip
    ingest_in(conn, [event], now=now, live=settings.live)
    o = offers_t.c
    query = (select(x.id, x.response, x.revenue, o.key).join(offers_t, o.id == x.offer_id)
             .where(x.customer_id == customer_id, x.responded_at == now)
             .order_by(x.id.desc()).limit(1))  # fmt: skip
    if exposure_id is not None:
        query = query.where(x.id == exposure_id)
    row = conn.execute(query).first()
    return {"customer_id": customer_id, "exposure_id": None if row is None else int(row.id),
            "offer": None if row is None else row.key,
            "response": None if row is None else row.response,
            "revenue": None if row is None else row.revenue}  # fmt: skip


def exposures(conn: Connection, customer_id: int, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The offers shown to the customer, newest first, with their answers (for the export)."""
    x, o = exposures_t.c, offers_t.c
    rows = conn.execute(select(x.id, o.key.label("offer"), x.shown_at, x.arm, x.segment,
                               x.context, x.score, x.reason, x.response, x.responded_at,
                               x.revenue).join(offers_t, o.id == x.offer_id)
                        .where(x.customer_id == customer_id)
                        .order_by(x.shown_at.desc(), x.id.desc()).limit(limit))  # fmt: skip
    return [dict(r._mapping) for r in rows]


def names(conn: Connection, keys: set[str]) -> dict[str, str]:
    """The names of the offers `keys` (key -> name)."""
    o = offers_t.c
    rows = conn.execute(select(o.key, o.name).where(o.key.in_(sorted(keys))))
    return {str(key): str(name) for key, name in rows}


def exposure_count(conn: Connection, customer_id: int) -> int:
    """How many offers the customer has been shown."""
    x = exposures_t.c
    query = select(func.count()).select_from(exposures_t).where(x.customer_id == customer_id)
    return int(conn.execute(query).scalar_one())


def erase(conn: Connection, customer_ids: list[int]) -> int:
    """Delete the erased customers' exposures (the bandit's anonymous counts stay)."""
    found = conn.execute(exposures_t.delete().where(exposures_t.c.customer_id.in_(customer_ids)))
    return int(found.rowcount or 0)
