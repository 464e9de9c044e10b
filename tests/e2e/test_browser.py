"""A person signs in with chromium, finds a customer and reads the timeline, also on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import RunningServer

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
EMAIL = "ada.lovelace.e2e@example.com"

# sent in an order that is neither oldest- nor newest-first, so the page must sort by time
EVENTS = [
    {"type": "page_view", "occurred_at": "2026-04-02T08:15:00Z", "email": EMAIL,
     "channel": "web", "properties": {"path": "/pricing"}},
    {"type": "support_contact", "occurred_at": "2026-04-03T16:45:00Z", "email": EMAIL,
     "channel": "phone", "department": "support"},
    {"type": "purchase", "occurred_at": "2026-04-01T11:30:00Z", "email": EMAIL,
     "channel": "store", "value": 12.5, "currency": "EUR"},
]  # fmt: skip
NEWEST_FIRST = [("support_contact", "phone"), ("page_view", "web"), ("purchase", "store")]
OTHERS = [
    {"type": "purchase", "occurred_at": "2026-04-05T10:00:00Z", "email": "grace.e2e@example.com",
     "channel": "web", "value": 99.0, "currency": "USD"},
    {"type": "newsletter_open", "occurred_at": "2026-04-06T10:00:00Z",
     "email": "alan.e2e@example.com", "channel": "email"},
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A browser tab; the test fails if any page it opened broke the Content-Security-Policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    refused: list[str] = []
    tab.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    try:
        yield tab
    finally:
        context.close()
    assert refused == [], f"the CSP refused: {refused}"


def post_events(server: RunningServer, events: list[dict[str, object]]) -> None:
    response = httpx.post(
        f"{server.url}/api/events",
        json={"events": events},
        headers={"authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["stored"] == len(events) and answer["rejected"] == [], answer


def test_sign_in_search_and_read_the_timeline(server: RunningServer, page: Page) -> None:
    post_events(server, EVENTS)
    post_events(server, OTHERS)

    page.goto(f"{server.url}/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=/customers$"))
    page.fill("#email", server.user_email)
    page.fill("#password", server.user_password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/customers")
    expect(page.locator("table.list tbody tr")).to_have_count(3)  # three customers so far

    page.fill("#q", EMAIL)
    page.press("#q", "Enter")
    expect(page).to_have_url(re.compile(r"/customers\?q=ada\.lovelace\.e2e%40example\.com"))
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(EMAIL)
    expect(rows.first.locator("td.touchpoints")).to_have_text("3")

    rows.first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    items = page.locator("#timeline li.event")
    expect(items).to_have_count(3)
    expect(items.locator(".etype")).to_have_text([kind for kind, _ in NEWEST_FIRST])
    expect(items.locator(".chip")).to_have_text([channel for _, channel in NEWEST_FIRST])
    for index, (_, channel) in enumerate(NEWEST_FIRST):
        expect(items.nth(index)).to_have_class(re.compile(rf"\bch-{channel}\b"))
    expect(items.nth(2).locator(".value")).to_have_text("12.50 EUR")
    moments = items.locator("time").evaluate_all("els => els.map(e => e.dateTime)")
    assert moments == sorted(moments, reverse=True) and len(set(moments)) == 3
    assert moments[0].startswith("2026-04-03T16:45")

    # the same page on a phone: the timeline is shown and fits the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(items).to_have_count(3)
    timeline = page.locator("#timeline")
    timeline.scroll_into_view_if_needed()
    expect(timeline).to_be_visible()
    expect(timeline).to_be_in_viewport()
    box = timeline.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page is {overflow} px wide on a 390 px screen"
