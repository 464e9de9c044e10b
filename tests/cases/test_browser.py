"""An agent signs in with chromium at phone width, opens the inbox and resolves a case; the
customer's open negative is lifted and their pulse rises (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from hxpulse.auth import service as auth
from hxpulse.cases import service, teams
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.pulse import service as pulse
from tests.e2e.conftest import RunningServer, server  # noqa: F401  (fixture)
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
AGENT, PASSWORD = "agent.cases.e2e@example.com", "agent cases password"


def test_an_agent_resolves_a_case_in_the_browser(
    server: RunningServer,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    settings = Settings(database_url=server.database_url)
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    post_events(server, [{"type": "detractor", "occurred_at": when, "channel": "email",
                          "email": "una.e2e@example.com", "message_id": "e2e-det"}])  # fmt: skip
    with server.engine.connect() as conn:
        customer_id = int(conn.execute(text("SELECT customer_id FROM events"
                                            " WHERE message_id = 'e2e-det'")).scalar_one())  # fmt: skip

    def setup(conn: object) -> dict[str, object]:
        now = datetime.now(UTC)
        agent = auth.create_user(conn, email=AGENT, password=PASSWORD, role="agent")  # type: ignore[arg-type]
        team = teams.create(conn, name="Care", now=now)  # type: ignore[arg-type]
        teams.add_member(conn, team_id=team["id"], user_id=agent, now=now)  # type: ignore[arg-type]
        return service.create(conn, settings, customer_id=customer_id, reason="Broken on arrival",  # type: ignore[arg-type]
                              source_key="e2e", source_event="e2e-det", team="Care", now=now)[0]  # fmt: skip

    made = run_write(server.engine, setup)  # type: ignore[arg-type]
    with server.engine.connect() as conn:
        before = pulse.explain(conn, settings.live, customer_id=customer_id,
                               now=datetime.now(UTC))  # fmt: skip
    assert before["open_negatives"] == 1

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}/cases")
    page.fill("#email", AGENT)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/cases")
    item = page.locator(f'li[data-case="{made["id"]}"]')
    expect(item).to_be_visible()
    expect(item.locator(".case-left")).to_contain_text("left")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the inbox scrolls sideways at phone width ({width}px)"
    item.locator("a.case-reason").click()
    expect(page.locator("#case-title")).to_have_text("Broken on arrival")
    expect(page.locator("#open-negatives")).to_contain_text("detractor")
    page.fill("#reply-body", "So sorry - a replacement ships today.")
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#case-status")).to_have_text("in progress")
    expect(page.locator("#sla-first")).to_contain_text("met")
    page.fill("#resolve-message", "The replacement is on its way.")
    page.click("#resolve")
    expect(page.locator("#case-status")).to_have_text("resolved")
    expect(page.locator("#open-negatives")).to_have_text("None open.")
    expect(page.locator("#thread")).to_contain_text("The replacement is on its way.")
    with server.engine.connect() as conn:
        after = pulse.explain(conn, settings.live, customer_id=customer_id,
                              now=datetime.now(UTC))  # fmt: skip
    assert after["open_negatives"] == 0 and after["pulse"] > before["pulse"] + 40
