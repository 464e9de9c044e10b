"""Export: everything held about one person, as one JSON document.

The document has the profile (pulse sums, stage), traits and preferences, consent with its
sources, identities, every event with its properties and context, survey invitations and
answers with their whys and themes, the stage history, the profiles merged into this one
(with their snapshots), any erasure request, the audit entries about them, and the messages
of their own live feed, the lifetime value stored for them. For the
customer themself (the preference centre) staff are named by their role in the entry, not by
name, and staff members' addresses are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, Table, select

from hxpulse.audit import service as audit
from hxpulse.audit.models import AuditEntry
from hxpulse.audit.service import Who
from hxpulse.cases import privacy as cases_privacy
from hxpulse.clv import service as clv
from hxpulse.customers.models import Customer, CustomerMerge, Identity
from hxpulse.db.engine import run_write
from hxpulse.errors import NotFound
from hxpulse.events.models import Event
from hxpulse.feeds import service as feeds
from hxpulse.journey import service as journey
from hxpulse.offers import service as offers
from hxpulse.privacy.consent import view as consent_view
from hxpulse.privacy.models import ErasureRequest
from hxpulse.rules import service as rules
from hxpulse.surveys.models import Invitation, Response, ResponseTheme, Survey, Theme

FORMAT = "hxpulse.customer-export"
VERSION = 1
Audience = Literal["staff", "customer"]
customers_t = cast(Table, Customer.__table__)
identities_t = cast(Table, Identity.__table__)
merges_t = cast(Table, CustomerMerge.__table__)
events_t = cast(Table, Event.__table__)
invitations_t = cast(Table, Invitation.__table__)
responses_t = cast(Table, Response.__table__)
surveys_t = cast(Table, Survey.__table__)
links_t = cast(Table, ResponseTheme.__table__)
themes_t = cast(Table, Theme.__table__)
log_t = cast(Table, AuditEntry.__table__)
requests_t = cast(Table, ErasureRequest.__table__)
STAFF_WORDS = {"user": "a member of staff", "key": "a program of the business",
               "system": "the system", "customer": "you"}  # fmt: skip
PROFILE = ("id", "name", "created_at", "updated_at", "stage", "stage_at", "detractor",
           "pulse_key", "pulse_investments", "pulse_returns", "open_negatives",
           "last_return_at", "erased_at")  # fmt: skip


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(query)]


def _live_id(conn: Connection, customer_id: int) -> int:
    c = customers_t.c
    row = conn.execute(select(c.id, c.merged_into_id).where(c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return int(row.merged_into_id or row.id)


def document(
    conn: Connection, customer_id: int, *, now: datetime, audience: Audience = "staff"
) -> dict[str, Any]:
    """Everything held about the customer (following merges to the live profile)."""
    live = _live_id(conn, customer_id)
    c = customers_t.c
    row = conn.execute(select(customers_t).where(c.id == live)).one()
    merged = [int(i) for i in conn.execute(select(c.id).where(c.merged_into_id == live)).scalars()]
    ids = [live, *merged]
    consent = dict(row.consent or {})
    if audience == "customer":
        consent = {k: _for_customer(v) for k, v in consent.items()}
    return {
        "format": FORMAT, "version": VERSION, "exported_at": now, "customer_id": live,
        "profile": {k: getattr(row, k) for k in PROFILE},
        "traits": row.traits or {}, "preferences": row.preferences or {},
        "consent": consent, "consent_by_purpose": consent_view(consent)["purposes"],
        "identities": _rows(conn, select(identities_t.c.kind, identities_t.c.value,
                                         identities_t.c.created_at)
                            .where(identities_t.c.customer_id.in_(ids))
                            .order_by(identities_t.c.id)),
        "events": _events(conn, ids),
        "survey_invitations": _invitations(conn, ids),
        "survey_answers": _answers(conn, ids),
        "stage_history": journey.history(conn, live),
        "rule_firings": [f for cid in ids for f in rules.firings(conn, customer_id=cid,
                                                                 limit=10_000)],
        "merged_profiles": _rows(conn, select(merges_t.c.merged_id, merges_t.c.merged_at,
                                              merges_t.c.message_id, merges_t.c.snapshot)
                                 .where(merges_t.c.survivor_id == live)
                                 .order_by(merges_t.c.id)),
        "erasure_requests": _rows(conn, select(requests_t.c.requested_at, requests_t.c.erased_at,
                                               requests_t.c.requested_by)
                                  .where(requests_t.c.customer_id.in_(ids))),
        "audit": _audit(conn, ids, audience),
        "cases": cases_privacy.export_cases(conn, ids, audience=audience),
        "feed_messages": feeds.for_customers(conn, ids),
        "lifetime_value": clv.export(conn, ids),
        "offer_exposures": [x for cid in ids for x in offers.exposures(conn, cid)],
    }  # fmt: skip


def _for_customer(answer: Any) -> Any:
    """A consent answer as the customer sees it: staff are named by role, not by name."""
    if isinstance(answer, dict) and answer.get("via") in ("agent", "api"):
        return {**answer, "source": STAFF_WORDS["user" if answer["via"] == "agent" else "key"]}
    return answer


def _events(conn: Connection, ids: list[int]) -> list[dict[str, Any]]:
    e = events_t.c
    return _rows(conn, select(e.message_id, e.kind, e.type, e.name, e.channel, e.department,
                              e.occurred_at, e.received_at, e.value, e.currency, e.source,
                              e.properties, e.context)
                 .where(e.customer_id.in_(ids)).order_by(e.occurred_at, e.id))  # fmt: skip


def _invitations(conn: Connection, ids: list[int]) -> list[dict[str, Any]]:
    i, s = invitations_t.c, surveys_t.c
    return _rows(conn, select(i.id, s.name.label("survey"), i.via, i.email, i.sent_at,
                              i.expires_at, i.opened_at, i.answered_at)
                 .join(surveys_t, s.id == i.survey_id)
                 .where(i.customer_id.in_(ids)).order_by(i.sent_at, i.id))  # fmt: skip


def _answers(conn: Connection, ids: list[int]) -> list[dict[str, Any]]:
    r, s = responses_t.c, surveys_t.c
    answers = _rows(conn, select(r.id, s.name.label("survey"), s.kind, r.score, r.band, r.why,
                                 r.sentiment, r.flagged, r.answered_at, r.department, r.channel,
                                 r.touchpoint)
                    .join(surveys_t, s.id == r.survey_id)
                    .where(r.customer_id.in_(ids)).order_by(r.answered_at, r.id))  # fmt: skip
    named: dict[int, list[str]] = {}
    if answers:
        found = conn.execute(
            select(links_t.c.response_id, themes_t.c.name)
            .join(themes_t, themes_t.c.id == links_t.c.theme_id)
            .where(links_t.c.response_id.in_([a["id"] for a in answers]))
        )
        for response_id, name in found:
            named.setdefault(int(response_id), []).append(str(name))
    for answer in answers:
        answer["themes"] = sorted(named.get(answer.pop("id"), []))
    return answers


def _audit(conn: Connection, ids: list[int], audience: Audience) -> list[dict[str, Any]]:
    a = log_t.c
    entries = _rows(conn, select(a.at, a.action, a.actor_kind, a.actor_label, a.address, a.detail)
                    .where(a.subject_kind == "customer",
                           a.subject_id.in_([str(i) for i in ids]))
                    .order_by(a.id))  # fmt: skip
    if audience == "customer":
        for item in entries:
            item["actor_label"] = STAFF_WORDS.get(item["actor_kind"], item["actor_kind"])
            if item["actor_kind"] != "customer":
                item["address"] = None
    return entries


def counts_of(doc: dict[str, Any]) -> dict[str, int]:
    """What an export held, in numbers (for its audit entry)."""
    keys = ("identities", "events", "survey_invitations", "survey_answers", "merged_profiles")
    return {key: len(doc[key]) for key in keys}


def export(
    engine: Engine,
    customer_id: int,
    *,
    who: Who,
    now: datetime,
    via: str,
    audience: Audience = "staff",
) -> dict[str, Any]:
    """Build the customer's document and record the export (`customer.export`, with counts)."""
    with engine.connect() as conn:
        doc = document(conn, customer_id, now=now, audience=audience)
    detail = {"via": via, **counts_of(doc)}
    run_write(engine, lambda conn: audit.record(
        conn, who=who, action="customer.export", now=now, subject_kind="customer",
        subject_id=doc["customer_id"], detail=detail))  # fmt: skip
    return doc
