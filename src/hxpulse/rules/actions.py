"""Delivering the two kinds of action the rules domain carries out itself.

`survey.invite` invites the customer through the surveys domain (its fatigue guard and consent
hold, and make a retried delivery invite once); `investment` ingests an investment event (a
personal outreach counts in the pulse) in its own transaction, its message id derived from the
outbox key, so that delivering it twice stores it once.
"""

from __future__ import annotations

from sqlalchemy import Connection

from hxpulse.auth import service as auth
from hxpulse.db.engine import run_write
from hxpulse.errors import HXError
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest_in
from hxpulse.outbox.dispatch import Context, Delivery, Outcome
from hxpulse.rules.evaluate import short
from hxpulse.surveys import sending
from hxpulse.surveys import service as surveys


def invite_survey(context: Context, delivery: Delivery) -> Outcome:
    """Invite the delivery's customer to the survey its payload names."""
    if delivery.customer_id is None:
        return Outcome(ok=False, response="no customer to invite", final=True)
    settings = context.settings
    with context.engine.connect() as conn:
        try:
            survey = surveys.find(conn, str(delivery.payload.get("survey", "")))
        except HXError as exc:
            return Outcome(ok=False, status=exc.status_code, response=str(exc), final=True)
    secret = settings.secret_key or run_write(context.engine, auth.session_secret)
    try:
        result = sending.send(context.engine, settings, secret, survey, [delivery.customer_id],
                              now=context.now)  # fmt: skip
    except HXError as exc:  # a paused survey, no SMTP server: retrying cannot help
        return Outcome(ok=False, status=exc.status_code, response=str(exc), final=True)
    if result.invited:
        return Outcome(ok=True, response=f"invited (invitation {result.invited[0].invitation_id})")
    reason = result.skipped[0]["reason"] if result.skipped else "not invited"
    return Outcome(ok=True, response=f"not invited: {reason}")  # the guard said no: done


def record_investment(context: Context, delivery: Delivery) -> Outcome:
    """Store the investment event for the delivery's customer (once per outbox key)."""
    if delivery.customer_id is None:
        return Outcome(ok=False, response="no customer to invest in", final=True)
    payload = delivery.payload
    customer_id = delivery.customer_id
    live = context.settings.live

    def store(conn: Connection) -> str:
        identities = surveys.customer_identities(conn, customer_id)
        if not identities:
            return "the customer has no identity (erased?)"
        event = EventIn(
            message_id=short(f"investment:{delivery.key}"), kind="track",
            type=str(payload.get("type") or "personal_outreach"), occurred_at=context.now,
            identities=identities, source="rule", name=payload.get("name"),
            properties=dict(payload.get("properties") or {}),
        )  # fmt: skip
        result = ingest_in(conn, [event], now=context.now, live=live)
        return "recorded" if result.stored else "already recorded"

    try:
        said = run_write(context.engine, store)
    except HXError as exc:
        return Outcome(ok=False, status=exc.status_code, response=str(exc), final=True)
    return Outcome(ok=True, response=said)
