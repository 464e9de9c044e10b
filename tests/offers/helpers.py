"""Shared for the offers tests: a catalogue and customers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.offers import service
from hxpulse.offers.settings import OfferIn


def catalogue(engine: Engine, now: datetime, *offers: dict[str, Any]) -> None:
    with engine.begin() as conn:
        service.sync_catalogue(conn, [OfferIn.model_validate(o) for o in offers], now=now)


def customers(
    engine: Engine, settings: Settings, count: int, now: datetime, *,
    message_prefix: str = "seed", **event: Any,
) -> dict[int, str]:  # fmt: skip
    """`count` customers (id -> email), each with one event (a purchase unless `type` says
    otherwise); called again with another `message_prefix`, one more event each."""
    fields = {"type": "purchase", "value": 20.0, **event}
    ingest(engine, [EventIn(message_id=f"{message_prefix}{i}", kind="track", occurred_at=now - timedelta(days=1),
                            identities=[("email", f"c{i}@example.com")], **fields)
                    for i in range(count)], now=now, live=settings.live)  # fmt: skip
    with engine.connect() as conn:
        return {queries.find(conn, f"c{i}@example.com"): f"c{i}@example.com" for i in range(count)}


def answer(engine: Engine, settings: Settings, emails: dict[int, str],
           answers: list[tuple[int, str]], now: datetime, tag: str) -> None:  # fmt: skip
    """Ingest `(exposure id, accepted|declined)` answers as the customers' events."""
    from sqlalchemy import select

    from hxpulse.offers.models import Exposure

    x = Exposure.__table__.c
    with engine.connect() as conn:
        owners = dict(conn.execute(select(x.id, x.customer_id)
                                   .where(x.id.in_([e for e, _ in answers]))).all())  # fmt: skip
    events = [EventIn(message_id=f"{tag}:{e}", kind="track", occurred_at=now,
                      type="offer_accepted" if r == "accepted" else "offer_declined",
                      identities=[("email", emails[owners[e]])],
                      properties={"exposure_id": e}) for e, r in answers]  # fmt: skip
    ingest(engine, events, now=now, live=settings.live)
