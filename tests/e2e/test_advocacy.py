"""Advocacy end to end, on SQLite and PostgreSQL, with every part real.

A customer answers an NPS survey with a 10 on the public survey page: the thank-you page shows
their referral link, and the default rule emails the ask (a real SMTP server receives it) and
records it as a `referral_ask`. A visitor follows the link (the click is recorded, a cookie set,
303 to the landing URL); the friend's first purchase, sent by Segment's own Python library with
the code, is attributed to the referrer; a self-referral and a second attribution are refused,
and the tracking client sees no error. The report's figures and the Advocacy page (chromium)
agree.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from playwright.sync_api import Page, expect
from segment.analytics import Client
from sqlalchemy import Engine, text

from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine, run_write
from hxpulse.db.migrate import upgrade
from hxpulse.testing.server import ServerProcess
from tests.e2e.test_browser import browser, page  # noqa: F401  (fixtures)
from tests.e2e.test_closed_loop import _wait
from tests.surveys.smtp import Inbox, smtp_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
ANALYST, PASSWORD = "analyst.adv@example.com", "advocacy password 1"
PROMOTER, FRIEND = "pat.promoter@example.com", "friend-1"
LANDING = "https://shop.example/welcome"


class Shop:
    def __init__(self, url: str, engine: Engine, key: str, write_key: str) -> None:
        self.url, self.engine, self.key, self.write_key = url, engine, key, write_key

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.key}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def shop(database_url: str, tmp_path: Path, smtp_server: tuple[Inbox, int]) -> Iterator[Shop]:  # noqa: F811
    engine = make_engine(Settings(database_url=database_url))
    upgrade(engine)

    def setup(conn: Any) -> tuple[str, str]:
        auth.create_user(conn, email=ANALYST, password=PASSWORD, role="analyst")
        key = auth.create_key(conn, name="shop backend", scopes=["read", "write"])[1]
        return key, auth.create_key(conn, name="shop site", scopes=["track"])[1]

    key, write_key = run_write(engine, setup)
    _, port = smtp_server
    process = ServerProcess(database_url, log=tmp_path / "server.log")
    env = {"HXPULSE_SMTP": json.dumps({"host": "127.0.0.1", "port": port}),
           "HXPULSE_ADVOCACY": json.dumps({"landing_url": LANDING}),
           "HXPULSE_PUBLIC_URL": process.url}  # fmt: skip
    with mock.patch.dict(os.environ, env):
        process.start()
    try:
        yield Shop(process.url, engine, key, write_key)
    finally:
        process.stop()
        engine.dispose()
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]


def _segment(shop: Shop, calls: list[dict[str, Any]]) -> list[Any]:
    errors: list[Any] = []
    client = Client(shop.write_key, host=shop.url, sync_mode=True, max_retries=1, timeout=30,
                    on_error=lambda exc, items: errors.append(repr(exc)))  # fmt: skip
    for call in calls:  # sync mode: each call is sent (and answered) before the next
        client.track(**call)
    return errors


def _body(mail: Any) -> str:
    part = mail if not mail.is_multipart() else mail.get_payload(0)
    return bytes(part.get_payload(decode=True)).decode()


def test_a_promoter_is_asked_and_a_friend_attributed(
    shop: Shop,
    page: Page,  # noqa: F811
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp_server
    now = datetime.now(UTC).isoformat()
    made = shop.api("POST", "/api/events", json={"events": [
        {"type": "identify", "email": PROMOTER, "user_id": "pat", "traits": {"name": "Pat"},
         "occurred_at": now}]})  # fmt: skip
    assert made.status_code == 200, made.text
    consent = shop.api("PUT", f"/api/customers/{PROMOTER}/consent",
                       json={"email_marketing": "granted", "surveys": "granted"})  # fmt: skip
    assert consent.status_code == 200, consent.text
    survey = shop.api("POST", "/api/surveys", json={"name": "Relationship NPS", "kind": "nps"})
    assert survey.status_code in (200, 201), survey.text
    invited = shop.api("POST", f"/api/surveys/{survey.json()['id']}/invite",
                       json={"customer": PROMOTER, "via": "link"})  # fmt: skip
    assert invited.status_code == 200, invited.text
    link = invited.json()["invited"][0]["link"]

    # the public survey page: a 10, no why; the thank-you page shows the referral link
    answered = httpx.post(link, data={"score": "10", "step": "skip"}, timeout=30)
    assert answered.status_code == 200, answered.text
    found = re.search(r'id="referral-link" href="([^"]+)"', answered.text)
    assert found is not None, answered.text
    referral_link = found.group(1)
    code = referral_link.rsplit("/", 1)[1]
    assert referral_link == f"{shop.url}/r/{code}"

    # the default rule emails the ask, and records it
    _wait(lambda: any(m["To"] == PROMOTER for m in inbox.messages), "no ask email")
    mail = next(m for m in inbox.messages if m["To"] == PROMOTER)
    assert "tell a friend" in str(mail["Subject"])
    assert referral_link in _body(mail)
    _wait(lambda: shop.rows("SELECT count(*) FROM events WHERE type = 'referral_ask'") == [(1,)],
          "the ask was not recorded")  # fmt: skip

    # a visitor follows the link
    followed = httpx.get(referral_link, follow_redirects=False, timeout=30)
    assert followed.status_code == 303 and followed.headers["location"] == LANDING
    assert followed.cookies.get("hx_ref") == code

    # the friend's first purchase, by Segment's library, carries the code; then a second one
    # with the code (already referred) and the promoter's own (self-referral): both refused
    errors = _segment(shop, [
        {"user_id": FRIEND, "event": "Order Completed", "message_id": "friend-order-1",
         "properties": {"revenue": 42.0, "referral_code": code}},
        {"user_id": FRIEND, "event": "Order Completed", "message_id": "friend-order-2",
         "properties": {"revenue": 8.0, "referral_code": code}},
        {"user_id": "pat", "event": "Order Completed", "message_id": "pat-order-1",
         "properties": {"revenue": 5.0, "referral_code": code}},
    ])  # fmt: skip
    assert errors == []
    rows = shop.rows("SELECT status, reason, message_id FROM referrals ORDER BY id")
    assert rows == [("attributed", None, "friend-order-1"),
                    ("refused", "already referred", "friend-order-2"),
                    ("refused", "self-referral", "pat-order-1")]  # fmt: skip
    journey = shop.rows("SELECT type FROM events WHERE type IN ('referral', 'referral_click')"
                        " ORDER BY id")  # fmt: skip
    assert journey == [("referral_click",), ("referral",)]

    report = shop.api("GET", "/api/advocacy").json()
    assert (report["promoters"], report["asked"], report["ask_rate"]) == (1, 1, 1.0)
    assert (report["asks"], report["referrals"], report["conversion"]) == (1, 1, 1.0)
    assert report["referred_customers"] == 1 and report["referred_revenue"] == 50.0
    assert report["top_advocates"][0]["name"] == "Pat"

    # the Advocacy page, in chromium
    page.goto(f"{shop.url}/advocacy")
    page.fill("#email", ANALYST)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#ask-rate")).to_have_text("100.0%")
    expect(page.locator("#referrals")).to_have_text("1")
    expect(page.locator("#conversion")).to_have_text("100.0%")
    expect(page.locator("#top-advocates")).to_contain_text("Pat")
    page.select_option("#channel", "store")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#promoters")).to_have_text("0")
    page.goto(f"{shop.url}/advocacy?since=nonsense")
    expect(page.locator("#advocacy-errors")).to_contain_text("since")
