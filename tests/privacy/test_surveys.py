"""Consent in the survey invitations: who said no to surveys is skipped with the reason, on
every way in; and every invitation email carries the preference centre (in the text and as
List-Unsubscribe with RFC 8058 one-click), received by a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.app import create_app
from hxpulse.config import Settings, SmtpSettings
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.privacy import service
from hxpulse.surveys import sending
from tests.privacy.helpers import key
from tests.surveys.helpers import make_survey
from tests.surveys.smtp import Inbox, smtp_server  # noqa: F401

NOW = datetime.now(UTC)


def _people(engine: Engine) -> None:
    def person(mid: str, email: str, consent: dict[str, Any]) -> EventIn:
        return EventIn(message_id=mid, kind="identify", type="identify", occurred_at=NOW,
                       identities=[("email", email)], traits={"consent": consent})  # fmt: skip

    ingest(engine, [person("a", "ann.s@example.com", {}),
                    person("b", "bob.s@example.com", {"surveys": False}),
                    person("c", "cy.s@example.com", {"email_marketing": False}),
                    person("d", "dee.s@example.com", {"email": "unsubscribed"})])  # fmt: skip


def test_who_said_no_to_surveys_is_skipped_with_the_reason(
    engine: Engine, settings: Settings
) -> None:
    _people(engine)
    survey = make_survey(engine, settings, NOW)
    got = sending.send(engine, settings, "s" * 40, survey, [1, 2, 3, 4], via="link", now=NOW)
    assert sorted(i.customer_id for i in got.invited) == [1, 3, 4]  # marketing is not surveys
    assert got.skipped == [{"customer_id": 2, "reason": "said no to surveys"}]
    with engine.connect() as conn:
        assert service.allowed(conn, [1, 2, 3, 4], "surveys") == {1, 3, 4}


def test_every_invitation_email_carries_the_preference_centre(
    settings: Settings,
    engine: Engine,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp_server
    configured = settings.model_copy(update={
        "smtp": SmtpSettings(host="127.0.0.1", port=port, sender="Acme <cx@acme.test>"),
        "public_url": "https://cx.acme.test"})  # fmt: skip
    _people(engine)
    with TestClient(create_app(configured)) as client:
        survey = client.post("/api/surveys", json={"name": "Relationship NPS"},
                             headers=key(engine, "write")).json()  # fmt: skip
        got = client.post(f"/api/surveys/{survey['id']}/invite",
                          json={"customers": ["ann.s@example.com", "bob.s@example.com",
                                              "cy.s@example.com", "dee.s@example.com"]},
                          headers=key(engine, "write")).json()  # fmt: skip
        assert sorted(s["reason"] for s in got["skipped"]) == ["opted out of email",
                                                               "said no to surveys"]  # fmt: skip
        assert sorted(m["To"] for m in inbox.messages) == ["ann.s@example.com", "cy.s@example.com"]
        for mail in inbox.messages:
            body = mail.get_payload()
            assert isinstance(body, str)
            link = re.search(r"https://cx\.acme\.test/p/\S+", body)
            assert link is not None
            # as received, maybe folded again by the test server's parser (a legal fold), but
            # never RFC 2047-encoded, which would hide the URL from mail providers
            header = re.sub(r"\r?\n[ \t]+", " ", mail["List-Unsubscribe"]).strip()
            assert header == f"<{link.group(0)}/unsubscribe/surveys>"
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            path = link.group(0).removeprefix("https://cx.acme.test")
            page = client.get(path)
            assert page.status_code == 200 and mail["To"] in page.text  # their own data only
            others = {m["To"] for m in inbox.messages} - {mail["To"]}
            assert not any(o in page.text for o in others)
            # the mail provider's one click
            done = client.post(f"{path}/unsubscribe/surveys", content="List-Unsubscribe=One-Click",
                               headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
            assert done.status_code == 200
        again = client.post(f"/api/surveys/{survey['id']}/invite",
                            json={"customers": ["ann.s@example.com"]},
                            headers=key(engine, "write")).json()  # fmt: skip
    assert again["skipped"][0]["reason"] == "said no to surveys"
    with engine.connect() as conn:
        assert service.allowed(conn, [1, 3], "surveys") == set()
