"""Advocacy logic: referral codes, clicks, asks, and the attribution step of the ingest.

A code is 8 characters from a 31-letter alphabet (no 0/O, 1/I/L): about 8.5 * 10^11 codes, made
with `secrets`, so that guessing one of a million customers' codes takes ~850,000 tries. A
referred person's identify or purchase carries the code as the property or trait
`referral_code`, or as `context.campaign.content` (a link tagged `utm_content=CODE`); the
`attribute` step links them to the referrer (a `referrals` row) and adds a `referral` event on
the referrer, in the same transaction, so that the pulse and the advocate stage count it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select

from hxpulse.advocacy.models import Referral, ReferralCode
from hxpulse.config import Settings
from hxpulse.db import raw
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid, NotFound
from hxpulse.events import service as events
from hxpulse.events.batch import Batch
from hxpulse.events.schemas import EventIn
from hxpulse.rules.evaluate import short

codes_t = cast(Table, ReferralCode.__table__)
referrals_t = cast(Table, Referral.__table__)
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
COOKIE = "hx_ref"
ASK = "referral_ask"
CLICK = "referral_click"
REFERRAL = "referral"


def new_code() -> str:
    """A fresh random code (see the module)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: object) -> str | None:
    """`text` as a code (upper case, trimmed), or None when it cannot be one."""
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_for(conn: Connection, *, customer_id: int, now: datetime) -> str:
    """The customer's referral code, made on first use (inside the caller's transaction)."""
    found = conn.execute(
        select(codes_t.c.code).where(codes_t.c.customer_id == customer_id)
    ).scalar_one_or_none()
    if found is not None:
        return str(found)
    while True:
        code = new_code()
        taken = conn.execute(select(codes_t.c.code).where(codes_t.c.code == code)).first()
        if taken is None:
            break
    conn.execute(insert(codes_t).values(customer_id=customer_id, code=code, created_at=now))
    return code


def link_for(settings: Settings, code: str) -> str:
    """The public referral link of `code`."""
    return f"{settings.public_url.rstrip('/')}/r/{code}"


def link_of(conn: Connection, settings: Settings, customer_id: int, now: datetime) -> str:
    """The customer's referral link, its code made on first use."""
    return link_for(settings, code_for(conn, customer_id=customer_id, now=now))


def erase(conn: Connection, customer_ids: list[int]) -> int:
    """Delete the erased customers' codes (their links stop working); return how many. Their
    `referrals` rows stay: they hold only internal ids, the anonymous counts of the report."""
    found = conn.execute(codes_t.delete().where(codes_t.c.customer_id.in_(customer_ids)))
    return int(found.rowcount or 0)


def referrer_of(conn: Connection, code: str) -> int | None:
    """The customer whose code `code` is, or None."""
    found = conn.execute(
        select(codes_t.c.customer_id).where(codes_t.c.code == code)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def _identities(conn: Connection, customer_id: int) -> list[tuple[str, str]]:
    from hxpulse.surveys.service import customer_identities

    identities = customer_identities(conn, customer_id)
    if not identities:
        raise NotFound(f"customer {customer_id} has no identity (erased?)")
    return identities


def _record(
    conn: Connection, settings: Settings, customer_id: int, event: dict[str, Any], now: datetime
) -> None:
    from hxpulse.ingest import ingest_in

    item = EventIn(kind="track", occurred_at=now, identities=_identities(conn, customer_id),
                   **event)  # fmt: skip
    ingest_in(conn, [item], now=now, live=settings.live)


def record_click(engine: Engine, settings: Settings, *, code: str, now: datetime) -> int:
    """Record a click on `code`'s link as a `referral_click` on the referrer (nothing about the
    visitor is kept); return the referrer. Unknown or malformed codes are NotFound."""
    checked = normal_code(code)

    def click(conn: Connection) -> int:
        referrer = referrer_of(conn, checked) if checked else None
        if referrer is None:
            raise NotFound(f"code: no referral code {code[:20]!r}")
        _record(conn, settings, referrer, {
            "message_id": f"click:{uuid.uuid4().hex}", "type": CLICK, "channel": "web",
            "source": "referral", "properties": {"code": checked}}, now)  # fmt: skip
        return referrer

    return run_write(engine, click)


def record_ask(
    conn: Connection,
    settings: Settings,
    *,
    customer_id: int,
    channel: str,
    by: str,
    now: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Record that someone (`by`) asked the customer for a referral or a review: a
    `referral_ask` investment event; returns the customer's code and link."""
    if channel not in ("web", "app", "email", "social", "phone", "chat", "store", "other"):
        raise Invalid(f"channel: unknown channel {channel[:20]!r}",
                      errors=[{"field": "channel", "message": "unknown channel"}])  # fmt: skip
    code = code_for(conn, customer_id=customer_id, now=now)
    properties: dict[str, Any] = {"by": by, "code": code}
    if note:
        properties["note"] = note
    _record(conn, settings, customer_id, {
        "message_id": f"ask:{uuid.uuid4().hex}", "type": ASK, "channel": channel,
        "source": "person", "properties": properties}, now)  # fmt: skip
    return {"customer_id": customer_id, "code": code, "link": link_for(settings, code)}


def summary(conn: Connection, settings: Settings, now: datetime) -> dict[str, Any]:
    """The dashboard's advocacy figures: `promoters`, `asked`, `ask_rate` (0..1 or None) and
    `referrals`, over the 90 days before `now` (see `report.summary`)."""
    from hxpulse.advocacy import report

    return report.summary(conn, settings, now)


# ---------------------------------------------------------------- the ingest step


def carried_code(event: EventIn, purchase: bool) -> tuple[str, str] | None:
    """(code, source) an identify or a purchase carries, or None."""
    if event.kind != "identify" and not purchase:
        return None
    for source, value in (("property", event.properties.get("referral_code")),
                          ("property", (event.traits or {}).get("referral_code")),
                          ("cookie", event.properties.get(COOKIE)),
                          ("campaign", _campaign_content(event.context))):  # fmt: skip
        code = normal_code(value)
        if code is not None:
            return code, source
    return None


def _campaign_content(context: dict[str, Any] | None) -> object:
    campaign = (context or {}).get("campaign")
    return campaign.get("content") if isinstance(campaign, dict) else None


def attribute(batch: Batch) -> None:
    """The ingest step: link the batch's referred people to their referrers (module doc).
    Self-referrals and a second attribution of one person are stored as refused."""
    purchases = batch.live.pulse.purchase_names
    found = []
    for index, event in enumerate(batch.events):
        purchase = event.type in purchases
        if not purchase and event.kind != "identify":
            continue  # most events: neither can carry a code
        carried = carried_code(event, purchase)
        if carried is not None:
            found.append((index, *carried))
    if not found:
        return
    conn = batch.conn
    codes = sorted({code for _, code, _ in found})
    referrers = dict(raw.select_in(
        conn, "SELECT code, customer_id FROM referral_codes WHERE code {in}", codes))  # fmt: skip
    referred = sorted({batch.owners[i] for i, code, _ in found if code in referrers})
    done = {row[0] for row in raw.select_in(
        conn, "SELECT referred_id FROM referrals WHERE status = 'attributed' AND referred_id {in}",
        referred)}  # fmt: skip
    rows: list[dict[str, Any]] = []
    derived: list[EventIn] = []
    owners: list[int] = []
    for index, code, source in found:
        if code not in referrers:
            continue
        referrer, person, event = int(referrers[code]), batch.owners[index], batch.events[index]
        reason = ("self-referral" if referrer == person
                  else "already referred" if person in done else None)  # fmt: skip
        rows.append({"referrer_id": referrer, "referred_id": person, "code": code,
                     "source": source, "status": "refused" if reason else "attributed",
                     "reason": reason, "message_id": event.message_id,
                     "at": event.occurred_at})  # fmt: skip
        if reason is None:
            done.add(person)
            derived.append(_referral_event(event, code, source, person))
            owners.append(referrer)
    if rows:
        conn.execute(insert(referrals_t), rows)
    if derived:
        events.add_to_batch(batch, derived, owners)


def _referral_event(event: EventIn, code: str, source: str, referred: int) -> EventIn:
    return EventIn(
        message_id=short(f"referral:{event.message_id}"), kind="track", type=REFERRAL,
        occurred_at=event.occurred_at, identities=[], channel=event.channel,
        department=event.department, source="referral",
        properties={"code": code, "source": source, "referred_customer_id": referred},
    )  # fmt: skip
