"""Shared helpers for the survey page tests: invite a customer, open the invitation's link,
read the stored answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.surveys import links, service
from tests.surveys.helpers import make_survey

HTML = {"accept": "text/html"}
XSS = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">'


def invite(engine: Engine, settings: Settings, email: str = "ann@example.com", *,
           kind: str = "nps", sent: datetime | None = None) -> int:  # fmt: skip
    """A customer with `email`, invited to a new survey of `kind`; returns the invitation id."""
    now = datetime.now(UTC)
    ingest(engine, [EventIn(message_id=f"seen-{email}", kind="track", type="page_view",
                            occurred_at=now, identities=[("email", email)])])  # fmt: skip
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id FROM surveys WHERE name = :n"), {"n": f"{kind} survey"}
        )
        known = found.scalar()
    survey = (
        make_survey(engine, settings, now, kind=kind, name=f"{kind} survey", department="support")
        if known is None
        else run_write(engine, lambda conn: service.get(conn, known))
    )

    def work(conn: Any) -> int:
        customer = conn.execute(text("SELECT customer_id FROM identities WHERE value = :v"),
                                {"v": email}).scalar_one()  # fmt: skip
        result = service.invite(conn, survey, [customer], settings=settings.surveys,
                                now=sent or now)  # fmt: skip
        return result.invited[0].invitation_id

    return run_write(engine, work)


def link(client: TestClient, invitation_id: int) -> str:
    return f"/s/{links.token_for(client.app.state.secret, invitation_id)}"  # type: ignore[attr-defined]


def answers(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT score, band, why, channel, invitation_id, message_id, department "
            "FROM survey_responses")))  # fmt: skip
