"""The demo's next best offers: a catalogue for a music retailer, and simulated exposures over
the last weeks of the history, answered the way customers would.

The catalogue is made through the offers service. A sample of customers is served through
`offers.serving.recommend(record=True)` (the holdout, the model fitted on the purchases' albums,
the bandit: as in production), each offer at a past moment; the answers are `offer_accepted`
and `offer_declined` events through the normal ingest. A customer takes an album offer in their
favourite genre far more often than another (so the model's ranking beats the holdout's random
pick), a win-back voucher more often when at risk; the rest are declined or ignored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.demo.cdnow import favourite
from hxpulse.errors import Invalid, NotFound
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.offers import fitting, service
from hxpulse.offers.settings import ACCEPTED, DECLINED, OfferIn

SEED = 20260202
SAMPLE = 1800  # customers served (two offers each: a few thousand exposures at most)
SHOWN = 2
DAYS = 60  # exposures over the last DAYS days of the history
BUYERS = ["customer", "repeat_customer", "advocate"]

CATALOGUE: list[dict[str, Any]] = [
    {"key": "winback-voucher", "name": "$5 voucher on your next CD", "kind": "incentive",
     "description": "A thank-you voucher for customers we have not seen in a while.",
     "eligibility": {"bands": ["at-risk", "lapsed"]}, "cost": 5.0, "value": 30.0},
    {"key": "new-releases", "name": "New releases newsletter", "kind": "content",
     "description": "Each Friday's new albums in the genres you buy.",
     "eligibility": {"stages": BUYERS}, "cost": 0.1, "value": 2.0},
    {"key": "sale-early-access", "name": "Early access to the summer sale", "kind": "access",
     "description": "Shop the sale a day before everyone else.",
     "eligibility": {"stages": ["repeat_customer", "advocate"], "bands": ["thriving", "steady"]},
     "cost": 1.0, "value": 40.0},
    {"key": "album-rock", "name": "Rock album of the month", "kind": "product",
     "item": "cd-rock-00", "description": "This month's rock pick, 20% off.",
     "eligibility": {"stages": BUYERS}, "cost": 3.0, "value": 15.0},
    {"key": "album-jazz", "name": "Jazz album of the month", "kind": "product",
     "item": "cd-jazz-00", "description": "This month's jazz pick, 20% off.",
     "eligibility": {"stages": BUYERS}, "cost": 3.0, "value": 15.0},
    {"key": "album-classical", "name": "Classical album of the month", "kind": "product",
     "item": "cd-classical-00", "description": "This month's classical pick, 20% off.",
     "eligibility": {"stages": BUYERS}, "cost": 3.0, "value": 18.0},
    {"key": "album-hip-hop", "name": "Hip-hop album of the month", "kind": "product",
     "item": "cd-hip-hop-00", "description": "This month's hip-hop pick, 20% off.",
     "eligibility": {"stages": BUYERS}, "cost": 3.0, "value": 15.0},
]  # fmt: skip
BASE = {"winback-voucher": 0.18, "new-releases": 0.03, "sale-early-access": 0.22}
IN_GENRE, OTHER_GENRE = 0.24, 0.015  # an album offer in the customer's favourite genre, or not
DECLINE = 0.4  # of those who do not accept, the share who say no (the others ignore it)


@dataclass(slots=True)
class Served:
    customers: int = 0
    exposures: int = 0
    accepted: int = 0
    declined: int = 0
    seconds: float = 0.0  # the catalogue, the first fit of the model, serving and answering


def ensure_catalogue(engine: Engine, *, now: datetime) -> list[str]:
    """Create the demo's offers that do not exist yet; return their keys."""

    def work(conn: Connection) -> list[str]:
        made = []
        for raw in CATALOGUE:
            try:
                service.get(conn, raw["key"])
            except NotFound:
                service.create(conn, OfferIn.model_validate(raw), now=now)
                made.append(raw["key"])
        return made

    return run_write(engine, work)


def _chance(key: str, genre: str | None) -> float:
    if key.startswith("album-"):
        return IN_GENRE if key == f"album-{genre}" else OTHER_GENRE
    return BASE.get(key, 0.05)


def _sample(conn: Connection, rng: random.Random) -> list[tuple[int, str]]:
    rows = conn.execute(text(
        "SELECT c.id, i.value FROM customers c JOIN identities i ON i.customer_id = c.id"
        " WHERE i.kind = 'user_id' AND c.merged_into_id IS NULL ORDER BY c.id"
    )).all()  # fmt: skip
    found = [(int(cid), str(value)) for cid, value in rows if str(value).startswith("cdnow-")]
    return sorted(rng.sample(found, min(SAMPLE, len(found))))


def serve(engine: Engine, settings: Settings, *, today: date) -> Served:
    """Fit the offers model on the history, then serve and answer the demo's offers, unless
    exposures exist already (run once)."""
    from hxpulse.offers.serving import recommend

    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM offer_exposures LIMIT 1")).first():
            return Served()
        rng = random.Random(SEED)
        people = _sample(conn, rng)
    try:  # the model that ranks the model arm's offers (the demo fits it again at the end)
        fitting.fit(engine, settings, now=datetime.now(UTC))
    except Invalid:
        pass
    served = Served(customers=len(people))
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=DAYS)
    answers: list[EventIn] = []
    moments = sorted(start + timedelta(seconds=rng.randrange(0, (DAYS - 3) * 86400))
                     for _ in people)  # fmt: skip
    order = rng.sample(people, len(people))  # served in time order, customers in random order

    def work(conn: Connection, batch: list[tuple[tuple[int, str], datetime]]) -> None:
        for (customer_id, user_id), moment in batch:
            made = recommend(conn, settings, customer_id, now=moment, n=SHOWN, record=True,
                             rng=rng)  # fmt: skip
            genre = favourite(user_id.removeprefix("cdnow-"))
            for offer in made["offers"]:
                served.exposures += 1
                answer = _answer(rng, offer, genre, user_id, moment)
                if answer is not None:
                    answers.append(answer)

    pairs = list(zip(order, moments, strict=True))
    for first in range(0, len(pairs), 200):
        batch = pairs[first : first + 200]
        run_write(engine, lambda conn, batch=batch: work(conn, batch))  # type: ignore[misc]
        # the answers go in as the history goes on, so the bandit learns from them
        if answers:
            ingest(engine, answers, live=settings.live)
            served.accepted += sum(a.type == ACCEPTED for a in answers)
            served.declined += sum(a.type == DECLINED for a in answers)
            answers.clear()
    return served


def _answer(
    rng: random.Random, offer: dict[str, Any], genre: str, user_id: str, shown: datetime
) -> EventIn | None:
    draw = rng.random()
    if draw < _chance(offer["key"], genre):
        kind = ACCEPTED
    elif rng.random() < DECLINE:
        kind = DECLINED
    else:
        return None
    return EventIn(
        message_id=f"demo-offer-{offer['exposure_id']}",
        kind="track",
        type=kind,
        occurred_at=shown + timedelta(minutes=rng.randrange(5, 36 * 60)),
        identities=[("user_id", user_id)],
        channel="web",
        source="demo",
        department="marketing",
        properties={"exposure_id": offer["exposure_id"], "offer": offer["key"]},
    )


def exposures_by_arm(conn: Connection) -> dict[str, int]:
    """How many exposures each arm has."""
    rows = conn.execute(text("SELECT arm, COUNT(*) FROM offer_exposures GROUP BY arm")).all()
    return {str(arm): int(count) for arm, count in rows}
