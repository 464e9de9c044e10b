"""The feed, notify and email handlers, called as the dispatcher calls them, with a real SMTP
server (aiosmtpd) on 127.0.0.1; SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.feeds import actions
from hxpulse.feeds import service as feeds
from hxpulse.handlers import HANDLERS
from tests.feeds.helpers import context, customer, delivery
from tests.surveys.smtp import Inbox

Server = tuple[Inbox, int]
REFUSED = {"consent": {"email": {"status": "denied", "at": "2026-01-01T00:00:00+00:00"}}}
CASE = {"title": "Your case is resolved", "message": "We refunded the order.",
        "template": "case_resolved", "data": {"case_id": 7, "resolution": "Refund"}}  # fmt: skip


def _feed(engine: Engine, customer_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return feeds.since(conn, scope="customer", customer_id=customer_id, after=0)


def test_the_handlers_are_registered() -> None:
    assert HANDLERS["feed"] is actions.handle_feed
    assert HANDLERS["notify"] is actions.handle_notify
    assert HANDLERS["email"] is actions.handle_email


def test_an_email_is_rendered_from_its_template_and_sent(
    engine: Engine, settings: Settings, smtp_server: Server
) -> None:
    inbox, port = smtp_server
    cid = customer(engine, "ann@example.com")
    sent = delivery("email", {"to": None, "template": "case_resolved",
                              "context": {"resolution": "We sent a new pair."}}, cid)  # fmt: skip
    outcome = actions.handle_email(context(engine, settings, port), sent)
    assert outcome.ok, outcome.response
    [mail] = inbox.messages
    assert mail["To"] == "ann@example.com"
    assert mail["Subject"] == "our company: your case is resolved"
    assert mail["Message-ID"].endswith("@hxpulse.invalid>")
    body = mail.get_payload(decode=True).decode()
    assert "Hello Ann Lee," in body and "What we did: We sent a new pair." in body
    assert "/p/" in body  # the preference centre
    assert mail["List-Unsubscribe"] is None  # a service message


def test_a_given_address_and_subject_win(
    engine: Engine, settings: Settings, smtp_server: Server
) -> None:
    inbox, port = smtp_server
    sent = delivery("email", {"to": "ops@example.com", "template": "generic", "subject": "Hello\nthere",
                              "context": {"message": "A note."}})  # fmt: skip
    assert actions.handle_email(context(engine, settings, port), sent).ok
    [mail] = inbox.messages
    assert mail["To"] == "ops@example.com" and mail["Subject"] == "Hello there"


def test_no_email_to_a_customer_who_refused_email(
    engine: Engine, settings: Settings, smtp_server: Server
) -> None:
    inbox, port = smtp_server
    cid = customer(engine, "no@example.com", traits=REFUSED)
    outcome = actions.handle_email(context(engine, settings, port),
                                   delivery("email", {"template": "case_reply"}, cid))  # fmt: skip
    assert outcome.ok and not outcome.final and "refused email" in outcome.response
    assert inbox.messages == []


def test_marketing_needs_a_grant(engine: Engine, settings: Settings, smtp_server: Server) -> None:
    inbox, port = smtp_server
    quiet = customer(engine, "quiet@example.com")
    outcome = actions.handle_email(context(engine, settings, port),
                                   delivery("email", {"template": "offer"}, quiet))  # fmt: skip
    assert outcome.ok and "marketing" in outcome.response and inbox.messages == []
    granted = {"consent": {"email_marketing": {"status": "granted", "at": "2026-01-01T00:00:00Z"}}}
    keen = customer(engine, "keen@example.com", traits=granted)
    assert actions.handle_email(context(engine, settings, port),
                                delivery("email", {"template": "offer"}, keen)).ok  # fmt: skip
    [mail] = inbox.messages
    assert mail["List-Unsubscribe"].endswith("/unsubscribe/email_marketing>")


def test_without_an_address_it_is_done_with_a_note(engine: Engine, settings: Settings) -> None:
    cid = customer(engine, None)
    outcome = actions.handle_email(context(engine, settings, 1),
                                   delivery("email", {"template": "generic"}, cid))  # fmt: skip
    assert outcome.ok and "no email address" in outcome.response


def test_an_unknown_template_fails_at_once(engine: Engine, settings: Settings) -> None:
    outcome = actions.handle_email(
        context(engine, settings), delivery("email", {"template": "nope", "to": "a@example.com"})
    )
    assert not outcome.ok and outcome.final
    assert (
        "unknown email template 'nope'" in outcome.response and "case_resolved" in outcome.response
    )


def test_an_unreachable_mail_server_is_retried(engine: Engine, settings: Settings) -> None:
    cid = customer(engine, "ann@example.com")
    free = 1  # nothing listens there
    outcome = actions.handle_email(context(engine, settings, free),
                                   delivery("email", {"template": "generic"}, cid))  # fmt: skip
    assert not outcome.ok and not outcome.final and "could not reach" in outcome.response
    unset = actions.handle_email(context(engine, settings),
                                 delivery("email", {"template": "generic"}, cid))  # fmt: skip
    assert not unset.ok and unset.final and "no SMTP server" in unset.response
    told = actions.handle_notify(context(engine, settings), delivery("notify", CASE, cid))
    assert told.ok and "no SMTP server" in told.response  # the live feed has it all the same
    assert len(_feed(engine, cid)) == 1


def test_notify_uses_the_feed_and_email_by_default(
    engine: Engine, settings: Settings, smtp_server: Server
) -> None:
    inbox, port = smtp_server
    cid = customer(engine, "ann@example.com")
    told = delivery("notify", CASE, cid)
    outcome = actions.handle_notify(context(engine, settings, port), told)
    assert outcome.ok, outcome.response
    [message] = _feed(engine, cid)
    assert message["type"] == "notification"
    assert message["data"] == {
        "title": CASE["title"],
        "message": CASE["message"],
        "data": CASE["data"],
    }
    [mail] = inbox.messages
    assert "We refunded the order." in mail.get_payload(decode=True).decode()
    assert "What we did: Refund" in mail.get_payload(decode=True).decode()
    again = actions.handle_notify(context(engine, settings, port), told)  # a retried delivery
    assert again.ok and len(_feed(engine, cid)) == 1


def test_notify_follows_the_customer_s_preference(
    engine: Engine, settings: Settings, smtp_server: Server
) -> None:
    inbox, port = smtp_server
    feed_only = customer(engine, "f@example.com", traits={"preferences": {"notify_by": "feed"}})
    assert actions.handle_notify(
        context(engine, settings, port), delivery("notify", CASE, feed_only)
    ).ok
    assert len(_feed(engine, feed_only)) == 1 and inbox.messages == []
    email_only = customer(engine, "e@example.com", traits={"preferences": {"notify_by": "email"}})
    assert actions.handle_notify(
        context(engine, settings, port), delivery("notify", CASE, email_only)
    ).ok
    assert _feed(engine, email_only) == [] and len(inbox.messages) == 1


def test_notify_falls_back_to_the_feed_when_email_cannot_go(
    engine: Engine, settings: Settings, smtp_server: Server
) -> None:
    inbox, port = smtp_server
    traits = {**REFUSED, "preferences": {"notify_by": "email"}}
    cid = customer(engine, "no@example.com", traits=traits)
    outcome = actions.handle_notify(context(engine, settings, port), delivery("notify", CASE, cid))
    assert outcome.ok and "refused email" in outcome.response
    assert len(_feed(engine, cid)) == 1 and inbox.messages == []


def test_feed_publishes_to_its_scope(engine: Engine, settings: Settings) -> None:
    ctx = context(engine, settings)
    team = delivery("feed", {"scope": "team", "team": None, "type": "case.opened",
                             "data": {"case_id": 7, "title": "Late delivery"}})  # fmt: skip
    assert actions.handle_feed(ctx, team).ok
    cid = customer(engine, "ann@example.com")
    own = delivery("feed", {"scope": "customer", "type": "offer", "data": {"sku": "A1"}}, cid)
    assert actions.handle_feed(ctx, own).ok
    with engine.connect() as conn:
        [shown] = feeds.since(conn, scope="team", after=0)
        assert shown["type"] == "case.opened" and shown["team"] is None
    assert [m["type"] for m in _feed(engine, cid)] == ["offer"]
    bad = actions.handle_feed(ctx, delivery("feed", {"scope": "customer", "type": "x", "data": {}}))
    assert not bad.ok and bad.final and "customer_id" in bad.response
