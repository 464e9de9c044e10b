"""The outbox handlers of the people-facing channels: `feed`, `notify` and `email`.

Each receives a Delivery (ids and the payload) and opens its own short transactions. They are
idempotent by the delivery's key: a retried `feed` or `notify` publishes its message once.

- `feed` `{"scope", "team", "type", "data"}`: one message on the customer's feed (the
  delivery's customer) or on the team feed (`team` null: everyone).
- `email` `{"to", "template", "subject", "context"}`: one templated mail (feeds/mail.py) to
  `to`, or (null) the customer's email identity. A customer who refused email (or, for a
  marketing template, did not grant `email_marketing`) gets none, and a customer without an
  address neither: both are done, with the reason as the delivery's response, not retried.
- `notify` `{"title", "message", "data", "template"?}`: tell the customer on their preferred
  channels. The profile's preference `notify_by` (or `channel`) is `feed`, `email`, `both` or
  a list of them; without one, both. The live feed always gets the message when the email
  cannot go (no address, no consent, no mail server, no such template), so the customer
  hears of it wherever they look; the feed goes first, the email after.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from hxpulse.auth import service as auth
from hxpulse.customers.models import Customer, Identity
from hxpulse.customers.queries import live_id
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid
from hxpulse.feeds import mail
from hxpulse.feeds import service as feeds
from hxpulse.outbox.dispatch import Context, Delivery, Outcome
from hxpulse.privacy import links as preference_links
from hxpulse.privacy.consent import allows_consent, email_allowed
from hxpulse.smtp import send

customers_t = cast(Table, Customer.__table__)
identities_t = cast(Table, Identity.__table__)
CHANNELS = ("feed", "email")
NOTIFICATION = "notification"  # the event type of a `notify` on the customer's feed


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the channels need to know of a customer."""

    id: int
    name: str | None
    email: str | None
    consent: dict[str, Any]
    preferences: dict[str, Any]
    erased: bool


def recipient(conn: Connection, customer_id: int) -> Recipient | None:
    """The customer (followed to their live profile), or None when there is no such one."""
    live = live_id(conn, customer_id)
    if live is None:
        return None
    c, i = customers_t.c, identities_t.c
    row = conn.execute(
        select(c.name, c.consent, c.preferences, c.erased_at).where(c.id == live)
    ).one()
    email = conn.execute(
        select(i.value).where(i.customer_id == live, i.kind == "email").order_by(i.id).limit(1)
    ).scalar()
    return Recipient(live, row.name, email, dict(row.consent or {}), dict(row.preferences or {}),
                     row.erased_at is not None)  # fmt: skip


def channels(preferences: dict[str, Any]) -> tuple[str, ...]:
    """The channels a customer's preferences ask for (`notify_by` or `channel`): both when they
    name none (or nothing this server knows)."""
    said = preferences.get("notify_by", preferences.get("channel"))
    wanted = [said] if isinstance(said, str) else said if isinstance(said, list) else []
    named = {str(w).strip().lower() for w in wanted}
    if "both" in named or "all" in named:
        return CHANNELS
    chosen = tuple(ch for ch in CHANNELS if ch in named)
    return chosen or CHANNELS


def handle_feed(ctx: Context, delivery: Delivery) -> Outcome:
    """Publish the delivery's message on its feed."""
    p = delivery.payload
    scope, kind, data = p.get("scope"), p.get("type"), p.get("data", {})
    team = p.get("team")
    if not isinstance(kind, str) or not isinstance(data, dict):
        return Outcome(False, response="a feed action needs a `type` and a `data` object",
                       final=True)  # fmt: skip
    if team is not None and not isinstance(team, str):
        return Outcome(False, response="a feed action's `team` is a name or null", final=True)
    try:
        made = run_write(ctx.engine, lambda conn: feeds.publish(
            conn, key=delivery.key, scope=str(scope), type=kind, data=data, now=ctx.now,
            customer_id=delivery.customer_id, team=team))  # fmt: skip
    except Invalid as exc:
        return Outcome(False, response=f"not published: {exc}", final=True)
    return Outcome(True, response=f"feed message {made}")


def handle_email(ctx: Context, delivery: Delivery) -> Outcome:
    """Send the delivery's templated email, if the customer's consent allows it."""
    p = delivery.payload
    context = p.get("context") or {}
    if not isinstance(context, dict):
        return Outcome(False, response="an email action's `context` is an object", final=True)
    prepared = _prepare(ctx, delivery, str(p.get("template") or ""), context,
                        to=p.get("to"), subject=p.get("subject"))  # fmt: skip
    return prepared if isinstance(prepared, Outcome) else _send(ctx, delivery, prepared)


def handle_notify(ctx: Context, delivery: Delivery) -> Outcome:
    """Tell the customer on their preferred channels (see the module): the live feed first
    (it is there within a poll), then the email."""
    p = delivery.payload
    if delivery.customer_id is None:
        return Outcome(False, response="a notify action names its customer", final=True)
    with ctx.engine.connect() as conn:
        found = recipient(conn, delivery.customer_id)
    if found is None or found.erased:
        return Outcome(True, response="not sent: the customer is erased or gone")
    given = p.get("data")
    data: dict[str, Any] = given if isinstance(given, dict) else {}
    wanted = channels(found.preferences)
    prepared: EmailMessage | Outcome | None = None
    if "email" in wanted:
        context = {**data, "title": p.get("title"), "message": p.get("message")}
        prepared = _prepare(ctx, delivery, str(p.get("template") or "generic"), context)
    notes: list[str] = []
    if "feed" in wanted or not isinstance(prepared, EmailMessage):
        message = {"title": p.get("title"), "message": p.get("message"), "data": data}
        made = run_write(ctx.engine, lambda conn: feeds.publish(
            conn, key=delivery.key, scope="customer", type=NOTIFICATION, data=message,
            now=ctx.now, customer_id=found.id))  # fmt: skip
        notes.append(f"feed message {made}")
    if isinstance(prepared, Outcome):  # not to be emailed: the feed has it
        notes.append(f"email {prepared.response}")
    elif prepared is not None:
        sent = _send(ctx, delivery, prepared)
        if not sent.ok:
            return sent  # retried whole: the feed message above is not written twice
        notes.append(f"email {sent.response}")
    return Outcome(True, response="; ".join(notes))


def _prepare(
    ctx: Context,
    delivery: Delivery,
    template: str,
    context: dict[str, Any],
    *,
    to: object = None,
    subject: object = None,
) -> EmailMessage | Outcome:
    """The mail to send, or the Outcome of not sending one (no consent, no address: done; no
    template, no mail server: dead at once)."""
    with ctx.engine.connect() as conn:
        found = recipient(conn, delivery.customer_id) if delivery.customer_id else None
    customer = {"name": found.name if found else None}
    if template == "referral_ask" and found is not None:  # the customer's own referral link
        context = {**context, "referral_link": _referral_link(ctx, found.id)}
    try:
        rendered = mail.render(template, {**context, "brand": ctx.settings.surveys.brand,
                                          "customer": customer},
                               subject=subject if isinstance(subject, str) else None)  # fmt: skip
    except mail.TemplateProblem as exc:
        return Outcome(False, response=str(exc), final=True)
    if found is not None:
        if found.erased or not email_allowed(found.consent):
            return Outcome(True, response="not sent: the customer refused email")
        if rendered.purpose == "marketing" and not allows_consent(found.consent,
                                                                   "email_marketing"):  # fmt: skip
            return Outcome(True, response="not sent: no consent to marketing emails")
    address = to if isinstance(to, str) and to else found.email if found else None
    if not address:
        return Outcome(True, response="not sent: no email address for the customer")
    if ctx.settings.smtp.host is None:
        return Outcome(False, response="not sent: no SMTP server is configured ([smtp] host)",
                       final=True)  # fmt: skip
    preferences = None
    if found is not None:
        secret = ctx.settings.secret_key or run_write(ctx.engine, auth.session_secret)
        preferences = preference_links.url_for(ctx.settings.public_url, secret, found.id)
    return mail.compose(sender=ctx.settings.smtp.sender, to=address, rendered=rendered,
                        preferences=preferences, key=delivery.key)  # fmt: skip


def _referral_link(ctx: Context, customer_id: int) -> str:
    from hxpulse.advocacy import service as advocacy

    return run_write(ctx.engine, lambda conn: advocacy.link_of(conn, ctx.settings, customer_id,
                                                               ctx.now))  # fmt: skip


def _send(ctx: Context, delivery: Delivery, message: EmailMessage) -> Outcome:
    failed = send(ctx.settings.smtp, [(delivery.key, message)])
    if failed:
        return Outcome(False, response=failed[delivery.key])  # the server may be back soon
    return Outcome(True, response="sent")
