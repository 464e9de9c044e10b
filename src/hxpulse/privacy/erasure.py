"""Erasure: remove a person's personal data, keep the anonymous aggregates exact, and
tombstone their identities so that they are not brought back.

Removed: identities (each tombstoned as a keyed hash), name, traits and preferences; events'
properties, context and page or screen names (a resolution keeps only the message id of the
negative it resolves, so a pulse rebuild gives the same sums); the whys of survey answers; the
email address on invitations (unanswered ones expire now); the snapshots of merges; the
messages of their own live feed; their stored lifetime value; their rows of the fitted offers
model (their items and factors; the model is stored again without them); and the fitted text
model, deleted when they wrote a why (it cannot unlearn one person's words: VADER scores until
the next `hxpulse fit`). The profiles merged into the customer are erased with it.

Kept, anonymous: the customer row as a shell (its internal id, stage and stage history, pulse
sums, open negatives, detractor flag), each event's type, time, channel, department, value and
currency (so the pulse, funnel and segments count it), survey answers' scores and bands (so
NPS reports and the rolled-up counts are unchanged), and the audit log (which names the
customer by internal id only), and the offers model's counts over everyone (each item's
buyers, the item factors, bought together). Every consent purpose is set to denied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, null, select, update

from hxpulse.advocacy import service as advocacy
from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.cases import privacy as cases_privacy
from hxpulse.clv import service as clv
from hxpulse.customers.models import Customer, CustomerMerge, Identity
from hxpulse.db.engine import is_sqlite
from hxpulse.errors import NotFound
from hxpulse.events.models import Event
from hxpulse.feeds import service as feeds
from hxpulse.offers import fitting as offers_model
from hxpulse.offers import service as offers
from hxpulse.outbox import service as outbox
from hxpulse.privacy import tombstones
from hxpulse.privacy.consent import EMAIL_CHANNEL, PURPOSES, entry
from hxpulse.privacy.models import ErasureRequest
from hxpulse.surveys import textfit
from hxpulse.surveys.models import Invitation, Response

customers_t = cast(Table, Customer.__table__)
identities_t = cast(Table, Identity.__table__)
merges_t = cast(Table, CustomerMerge.__table__)
events_t = cast(Table, Event.__table__)
invitations_t = cast(Table, Invitation.__table__)
responses_t = cast(Table, Response.__table__)
requests_t = cast(Table, ErasureRequest.__table__)


def _profiles(conn: Connection, customer_id: int, *, lock: bool) -> list[int]:
    """The live profile behind `customer_id` and those merged into it, the live one first.
    On PostgreSQL the live row is locked: a concurrent merge or event insert for it waits."""
    c = customers_t.c
    row = conn.execute(select(c.id, c.merged_into_id).where(c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    live = int(row.merged_into_id or row.id)
    if lock and not is_sqlite(conn):
        conn.execute(select(c.id).where(c.id == live).with_for_update())
    merged = conn.execute(select(c.id).where(c.merged_into_id == live).order_by(c.id)).scalars()
    return [live, *(int(i) for i in merged)]


def _count(conn: Connection, table: Table, ids: list[int], *where: Any) -> int:
    query = select(func.count()).select_from(table).where(table.c.customer_id.in_(ids), *where)
    return int(conn.execute(query).scalar_one())


def preview(conn: Connection, customer_id: int) -> dict[str, Any]:
    """What erasing the customer would touch, in numbers (for a confirmation)."""
    ids = _profiles(conn, customer_id, lock=False)
    return {
        "customer_id": ids[0],
        "identities": _count(conn, identities_t, ids),
        "events": _count(conn, events_t, ids),
        "survey_answers": _count(conn, responses_t, ids),
        "survey_invitations": _count(conn, invitations_t, ids),
        "merged_profiles": len(ids) - 1,
        "model_rows": offers_model.known(conn, ids),
        "text_model_dropped": textfit.learnt_from(conn, ids),
    }


def erase(conn: Connection, customer_id: int, *, who: Who, now: datetime) -> dict[str, Any]:
    """Erase the customer (and the profiles merged into it) in the caller's transaction;
    return the counts of what was removed, which are also audited (`customer.erase`)."""
    ids = _profiles(conn, customer_id, lock=True)
    live = ids[0]
    i = identities_t.c
    found = [(str(k), str(v)) for k, v in conn.execute(
        select(i.kind, i.value).where(i.customer_id.in_(ids)).order_by(i.id))]  # fmt: skip
    counts: dict[str, Any] = {
        "identities": len(found),
        "tombstones": tombstones.bury(conn, found, now=now),
        "merged_profiles": len(ids) - 1,
    }
    conn.execute(identities_t.delete().where(i.customer_id.in_(ids)))
    counts["events"] = _scrub_events(conn, ids)
    counts["text_model_dropped"] = textfit.forget(conn, ids)  # before their whys are emptied
    counts["survey_answers"] = conn.execute(
        update(responses_t)
        .where(responses_t.c.customer_id.in_(ids))
        .values(why=None, sentiment=None)
    ).rowcount
    counts["survey_invitations"] = _scrub_invitations(conn, ids, now)
    m = merges_t.c
    counts["merge_snapshots"] = conn.execute(
        update(merges_t)
        .where((m.survivor_id.in_(ids)) | (m.merged_id.in_(ids)))
        .values(snapshot={})
    ).rowcount
    counts["case_entries"] = cases_privacy.erase_cases(conn, ids)
    counts["outbox_actions"] = outbox.erase_customer(conn, ids, now=now)
    counts["feed_messages"] = feeds.erase(conn, ids)  # their own live feed's messages
    counts["referral_codes"] = advocacy.erase(conn, ids)  # referrals rows keep only ids
    counts["lifetime_values"] = clv.erase(conn, ids)
    counts["offer_exposures"] = offers.erase(conn, ids)  # the bandit's counts are anonymous
    counts["model_rows"] = offers_model.forget(conn, ids, now=now)  # its counts stay
    _scrub_profiles(conn, ids, now)
    _close_request(conn, live, who, now, counts)
    audit.record(conn, who=who, action="customer.erase", now=now, subject_kind="customer",
                 subject_id=live, detail=counts)  # fmt: skip
    return {"customer_id": live, "erased_at": now, **counts}


def _scrub_events(conn: Connection, ids: list[int]) -> int:
    """Empty the events' properties, context and names; a resolution keeps the message id of
    the negative experience it names (the pulse reads it)."""
    e = events_t.c
    resolves = e.properties["resolves"].as_string()
    named = conn.execute(
        select(e.id, resolves).where(e.customer_id.in_(ids), resolves.is_not(None))
    ).all()
    done = conn.execute(
        update(events_t).where(e.customer_id.in_(ids)).values(properties={}, context=null(),
                                                              name=None)
    ).rowcount  # fmt: skip
    if named:
        conn.execute(
            update(events_t).where(e.id == bindparam("event_id")).values(properties=bindparam("p")),
            [{"event_id": eid, "p": {"resolves": value}} for eid, value in named],
        )
    return int(done)


def _scrub_invitations(conn: Connection, ids: list[int], now: datetime) -> int:
    v = invitations_t.c
    conn.execute(
        update(invitations_t)
        .where(v.customer_id.in_(ids), v.answered_at.is_(None), v.expires_at > now)
        .values(expires_at=now)
    )
    return int(
        conn.execute(
            update(invitations_t).where(v.customer_id.in_(ids)).values(email=None)
        ).rowcount
    )


def _scrub_profiles(conn: Connection, ids: list[int], now: datetime) -> None:
    c = customers_t.c
    denied = {p: entry("denied", via="erasure", source="erasure", at=now)
              for p in (*PURPOSES, EMAIL_CHANNEL)}  # fmt: skip
    conn.execute(update(customers_t).where(c.id.in_(ids)).values(
        name=None, traits={}, preferences={}, consent=denied, updated_at=now))  # fmt: skip
    conn.execute(
        update(customers_t).where(c.id.in_(ids), c.erased_at.is_(None)).values(erased_at=now)
    )


def _close_request(
    conn: Connection, live: int, who: Who, now: datetime, counts: dict[str, Any]
) -> None:
    r = requests_t.c
    done = conn.execute(
        update(requests_t).where(r.customer_id == live).values(erased_at=now, counts=counts)
    )
    if done.rowcount == 0:
        conn.execute(insert(requests_t), {"customer_id": live, "requested_at": now,
                                          "requested_by": who.kind, "erased_at": now,
                                          "counts": counts})  # fmt: skip
