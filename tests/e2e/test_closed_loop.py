"""The closed loop end to end, on SQLite and PostgreSQL, with every part real.

A detractor answers a survey (`POST /api/responses`); the default rule opens a case through the
outbox, and round-robin gives it to the team's agent; the agent resolves it in chromium; the
customer's app, subscribed to their live feed (SSE, with a token the shop's backend obtained),
receives the notification; a real SMTP server receives the email; a webhook receiver on
127.0.0.1 gets the signed `case.opened` and `case.resolved` deliveries and verifies them with the
`standardwebhooks` package; and the customer's pulse lifts the detractor's 12x weight.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from httpx_sse import connect_sse
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.cases import teams
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine, run_write
from hxpulse.db.migrate import upgrade
from hxpulse.pulse import service as pulse
from hxpulse.testing.server import ServerProcess
from hxpulse.webhooks import service as webhooks
from tests.e2e.test_browser import browser, page  # noqa: F401  (fixtures)
from tests.surveys.smtp import Inbox, smtp_server  # noqa: F401  (fixture)
from tests.webhooks.receiver import Server, receiver_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
AGENT, PASSWORD = "agent.loop@example.com", "closed loop password 1"
CUSTOMER = "dana.loop@example.com"


class Loop:
    """A real `hxpulse serve` set up for the loop: a team with one agent, keys, a webhook."""

    def __init__(self, url: str, engine: Engine, settings: Settings, key: str) -> None:
        self.url, self.engine, self.settings, self.key = url, engine, settings, key

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.key}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def pulse_of(self, customer_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return pulse.explain(conn, self.settings.live, customer_id=customer_id,
                                 now=datetime.now(UTC))  # fmt: skip


@pytest.fixture
def loop(
    database_url: str,
    tmp_path: Path,
    smtp_server: tuple[Inbox, int],  # noqa: F811
    receiver_server: Server,  # noqa: F811
) -> Iterator[Loop]:
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    upgrade(engine)
    receiver = receiver_server.receiver

    def setup(conn: Any) -> str:
        now = datetime.now(UTC)
        key = auth.create_key(conn, name="shop backend", scopes=["read", "write"])[1]
        agent = auth.create_user(conn, email=AGENT, password=PASSWORD, role="agent")
        team = teams.create(conn, name="Care", now=now)
        teams.add_member(conn, team_id=team["id"], user_id=agent, now=now)
        made = webhooks.create(conn, name="crm", url=receiver.url,
                               event_types=["case.opened", "case.resolved"],
                               settings=settings_private, now=now)  # fmt: skip
        receiver.secrets.append(made["secret"])
        return str(key)

    settings_private = Settings(database_url=database_url,
                                webhooks={"allow_private_networks": True}).webhooks  # fmt: skip
    key = run_write(engine, setup)
    _, port = smtp_server
    env = {
        "HXPULSE_SMTP": json.dumps({"host": "127.0.0.1", "port": port}),
        "HXPULSE_CASES": json.dumps({"default_team": "Care"}),
        "HXPULSE_WEBHOOKS": json.dumps({"allow_private_networks": True}),
    }
    process = ServerProcess(database_url, log=tmp_path / "server.log")
    with mock.patch.dict(os.environ, {**env, "HXPULSE_PUBLIC_URL": process.url}):
        process.start()
    try:
        yield Loop(process.url, engine, settings, key)
    finally:
        process.stop()
        engine.dispose()
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]


def _follow(url: str, seen: list[dict[str, Any]], ready: threading.Event) -> None:
    """The customer's app: follow the live feed until a notification arrives."""
    with httpx.Client(timeout=httpx.Timeout(30, read=30)) as client:
        with connect_sse(client, "GET", url) as source:
            ready.set()
            for message in source.iter_sse():
                if message.event == "notification":
                    seen.append(json.loads(message.data))
                    return


def test_a_detractor_is_heard_helped_and_told(
    loop: Loop,
    page: Page,  # noqa: F811
    smtp_server: tuple[Inbox, int],  # noqa: F811
    receiver_server: Server,  # noqa: F811
) -> None:
    inbox, _ = smtp_server
    receiver = receiver_server.receiver
    # the shop knows the customer; its backend asks for their feed token (never the API key
    # in a browser), and the app follows the feed
    identify = loop.api("POST", "/api/events", json={"events": [
        {"type": "identify", "email": CUSTOMER, "traits": {"name": "Dana Loop"},
         "occurred_at": datetime.now(UTC).isoformat()}]})  # fmt: skip
    assert identify.status_code == 200, identify.text
    token = loop.api("POST", f"/api/customers/{CUSTOMER}/feed-token")
    assert token.status_code == 200, token.text
    seen: list[dict[str, Any]] = []
    ready = threading.Event()
    follower = threading.Thread(target=_follow, args=(token.json()["url"], seen, ready),
                                daemon=True)  # fmt: skip
    follower.start()
    assert ready.wait(15), "the live feed did not open"

    survey = loop.api("POST", "/api/surveys", json={"name": "Relationship NPS", "kind": "nps"})
    assert survey.status_code in (200, 201), survey.text
    answer = loop.api("POST", "/api/responses", json={
        "survey": "Relationship NPS", "score": 2, "email": CUSTOMER, "message_id": "loop-answer",
        "answered_at": datetime.now(UTC).isoformat(), "why": "The parcel arrived broken"})  # fmt: skip
    assert answer.status_code == 200, answer.text

    # the default rule opens a case through the outbox, and the team's agent owns it
    found: list[dict[str, Any]] = []

    def opened() -> bool:
        found[:] = loop.api("GET", "/api/cases", params={"customer": CUSTOMER}).json()["items"]
        return bool(found)

    _wait(opened, "no case was opened for the detractor")
    case = found[0]
    assert case["owner"] == AGENT and case["status"] == "open", case
    assert case["first_response_due"] and case["resolution_due"], case
    customer_id = int(case["customer_id"])
    before = loop.pulse_of(customer_id)
    assert before["open_negatives"] == 1, before

    # the agent resolves it in the browser
    page.goto(f"{loop.url}/cases/{case['id']}")
    page.fill("#email", AGENT)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#case-title")).to_be_visible()
    page.fill("#resolve-message", "A new one is on its way, with our apologies.")
    page.click("#resolve")
    expect(page.locator("#case-status")).to_have_text("resolved")

    follower.join(15)
    assert seen and seen[0]["data"]["case_id"] == case["id"], seen
    assert "A new one is on its way" in seen[0]["message"]
    _wait(lambda: any(m["To"] == CUSTOMER for m in inbox.messages), "no email to the customer")
    mail = next(m for m in inbox.messages if m["To"] == CUSTOMER)
    assert "resolved" in str(mail["Subject"]).lower()
    body = mail.get_payload(decode=True) if not mail.is_multipart() else (
        mail.get_payload(0).get_payload(decode=True))  # fmt: skip
    assert b"A new one is on its way" in body

    assert receiver.wait_for(2), receiver.receipts
    kinds = sorted(json.loads(r.body)["type"] for r in receiver.receipts if r.verified)
    assert kinds == ["case.opened", "case.resolved"], kinds
    assert all(r.verified for r in receiver.receipts)

    after = loop.pulse_of(customer_id)
    assert after["open_negatives"] == 0, after
    assert after["pulse"] > before["pulse"], (before, after)


def _wait(check: Any, message: str, timeout: float = 20.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.1)):
        if check():
            return
        done.wait(0.1)
    raise AssertionError(message)
