"""Sending invitations: to one customer, a segment, or by the survey's own rule (after each
trigger event, or a recurring relationship survey staggered over its period). Invitations are
committed first, then emailed; one that cannot be delivered is withdrawn and reported."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select, update

from hxpulse.config import Settings
from hxpulse.customers import queries as customer_queries
from hxpulse.customers.models import Customer
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid
from hxpulse.privacy import links as preference_links
from hxpulse.segments import service as segments
from hxpulse.surveys import links, mail, service
from hxpulse.surveys.service import InviteResult, events_t, surveys_t

EPOCH_DAY = datetime(2020, 1, 1, tzinfo=UTC)
customers_t = cast(Table, Customer.__table__)


def segment_members(conn: Connection, settings: Settings, segment: Any, now: datetime) -> list[int]:
    found = segments.find(conn, segment)
    where = segments.condition(conn, settings.live, found["definition"], now)
    rows = conn.execute(select(customers_t.c.id).where(where).order_by(customers_t.c.id))
    return [int(r[0]) for r in rows]


def targets(
    conn: Connection,
    settings: Settings,
    *,
    customers: Sequence[str] = (),
    segment: str | int | None = None,
    now: datetime,
) -> list[int]:
    """The customer ids named by identities/ids and/or a segment's current members."""
    if not customers and segment is None:
        raise Invalid(
            "say whom to invite: customer (an id or identity) or segment",
            errors=[{"field": "customer", "message": "or segment"}],
        )
    ids = [customer_queries.find(conn, ref) for ref in customers]
    if segment is not None:
        ids += segment_members(conn, settings, segment, now)
    return ids


def send(
    engine: Engine,
    settings: Settings,
    secret: str,
    survey: dict[str, Any],
    customer_ids: Sequence[int],
    *,
    via: str | None = None,
    now: datetime | None = None,
) -> InviteResult:
    """Invite `customer_ids` (fatigue-guarded); email them when SMTP is configured (or
    `via="email"`), else return the links."""
    moment = now or datetime.now(UTC)
    how = via or ("email" if settings.smtp.host else "link")
    if how not in ("email", "link"):
        raise Invalid(
            "via must be email or link", errors=[{"field": "via", "message": "email|link"}]
        )
    if how == "email" and settings.smtp.host is None:
        raise Invalid(
            "no SMTP server is configured ([smtp] host): invite with via=link",
            errors=[{"field": "via", "message": "no SMTP server"}],
        )
    result = run_write(
        engine,
        lambda conn: service.invite(
            conn, survey, customer_ids, settings=settings.surveys, now=moment, via=how
        ),
    )
    for item in result.invited:
        item.link = links.url_for(settings.public_url, secret, item.invitation_id)
    if how == "email":
        brand = settings.surveys.brand
        mails = [
            (
                i.invitation_id,
                mail.message(
                    settings.smtp.sender,
                    i.email or "",
                    survey,
                    i.link,
                    brand,
                    preference_links.url_for(settings.public_url, secret, i.customer_id),
                ),
            )
            for i in result.invited
        ]
        failed = mail.send(settings.smtp, mails)
        if failed:
            run_write(engine, lambda conn: service.withdraw(conn, list(failed)))
            result.skipped += [
                {"customer_id": i.customer_id, "reason": failed[i.invitation_id]}
                for i in result.invited
                if i.invitation_id in failed
            ]
            result.invited = [i for i in result.invited if i.invitation_id not in failed]
    return result


def due(conn: Connection, settings: Settings, survey: dict[str, Any], now: datetime) -> list[int]:
    """Who a survey's own rule invites now.

    Triggered surveys: the customers with an event of `trigger_event` (in the survey's
    department, if it has one) since the last run. Recurring surveys: the segment's members
    whose turn is today — customer id modulo `every_days` equals the day number modulo
    `every_days` — so each member is asked every N days and the load is spread evenly."""
    ids: list[int] = []
    if survey["trigger_event"]:
        query = select(events_t.c.id, events_t.c.customer_id).where(
            events_t.c.id > survey["trigger_cursor"],
            events_t.c.type.in_(settings.pulse.names_of([survey["trigger_event"]])),
        )
        if survey["department"]:
            query = query.where(events_t.c.department == survey["department"])
        rows = conn.execute(query.order_by(events_t.c.id)).all()
        if rows:
            conn.execute(
                update(surveys_t)
                .where(surveys_t.c.id == survey["id"])
                .values(trigger_cursor=rows[-1][0])
            )
            ids += [int(r[1]) for r in rows]
    if survey["segment_id"] is not None and survey["every_days"]:
        every = int(survey["every_days"])
        turn = (now - EPOCH_DAY).days % every
        ids += [
            cid
            for cid in segment_members(conn, settings, survey["segment_id"], now)
            if cid % every == turn
        ]
    # a merge moves events to the survivor and segments match live customers only: these
    # ids are live already (and `invite` skips any that are not)
    return list(dict.fromkeys(ids))


def run_due(
    engine: Engine, settings: Settings, secret: str, *, now: datetime | None = None
) -> dict[str, InviteResult]:
    """Send every active survey's rule-based invitations (run it daily, or more often)."""
    moment = now or datetime.now(UTC)
    results: dict[str, InviteResult] = {}
    with engine.connect() as conn:
        surveys = [
            s
            for s in service.list_surveys(conn)
            if s["active"] and (s["trigger_event"] or s["segment_id"] is not None)
        ]
    for survey in surveys:

        def pick(conn: Connection, s: dict[str, Any] = survey) -> list[int]:
            return due(conn, settings, s, moment)

        ids = run_write(engine, pick)
        if ids:
            results[survey["name"]] = send(engine, settings, secret, survey, ids, now=moment)
    return results
