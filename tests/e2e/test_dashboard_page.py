"""The home dashboard in chromium, on SQLite and PostgreSQL: every tile's link leads to its
page, a mover and a detractor's why to the customer, and on a 375 px phone nothing scrolls
sideways."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningServer

# the browser fixtures are shared with the first browser test (pytest finds them imported)
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401

pytestmark = pytest.mark.browser
# tile -> (the link's path and query, the heading of the page it opens)
TILES = {
    "tile-nps": (r"/nps\?since=\d{4}-\d\d-\d\d&until=\d{4}-\d\d-\d\d&period=week$", "NPS"),
    "tile-journey": (r"/journey\?start=\d{4}-\d\d-\d\d&end=\d{4}-\d\d-\d\d$", "Journey"),
    "tile-at-risk": (r"/pulse/at-risk$", "At risk"),
    "tile-cases": (r"/cases\?tab=all$", "Cases"),
    "sla-link": (r"/cases/sla\?since=\d{4}-\d\d-\d\d$", "SLA report"),
    "tile-advocacy": (r"/advocacy\?since=\d{4}-\d\d-\d\d&until=\d{4}-\d\d-\d\d$", "Advocacy"),
    "tile-movers": (r"/pulse#h-rises$", "Pulse"),
    "tile-whys": (r"/nps#h-latest$", "NPS"),
}


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def seed(server: RunningServer) -> None:
    post_events(server, [
        {"type": "purchase", "occurred_at": ago(30), "email": "rising.dash@example.com",
         "value": 80, "channel": "web", "traits": {"name": "Rising Customer"}},
        {"type": "review", "occurred_at": ago(1), "email": "rising.dash@example.com"},
        {"type": "purchase", "occurred_at": ago(60), "email": "falling.dash@example.com",
         "value": 40, "channel": "store", "traits": {"name": "Falling Customer"}},
        {"type": "complaint", "occurred_at": ago(2), "email": "falling.dash@example.com",
         "channel": "phone"},
    ])  # fmt: skip
    headers = {"authorization": f"Bearer {server.api_key}"}
    made = httpx.post(f"{server.url}/api/surveys", headers=headers, timeout=30,
                      json={"name": "Relationship NPS", "kind": "nps"})  # fmt: skip
    assert made.status_code == 201, made.text
    answers = [{"survey": "Relationship NPS", "score": 2, "answered_at": ago(1),
                "email": "falling.dash@example.com",
                "why": "Waited <b>forever</b> for the refund, a very long time indeed"},
               {"survey": "Relationship NPS", "score": 10, "answered_at": ago(3),
                "email": "rising.dash@example.com", "why": "Lovely"}]  # fmt: skip
    stored = httpx.post(f"{server.url}/api/responses", headers=headers, timeout=30,
                        json={"responses": answers})  # fmt: skip
    assert stored.status_code == 200 and stored.json()["stored"] == 2, stored.text


def test_every_tile_leads_to_its_page(server: RunningServer, page: Page) -> None:  # noqa: F811
    seed(server)
    server.sign_in(page, "/")
    expect(page.locator("h1")).to_have_text("Home")
    for tile, (target, heading) in TILES.items():
        link = page.locator(f"#{tile} a.tile-link" if tile.startswith("tile-") else f"#{tile}")
        link.first.click()
        expect(page).to_have_url(re.compile(f"^{re.escape(server.url)}{target}"))
        expect(page.locator("h1")).to_have_text(heading)
        page.go_back()
        expect(page.locator("h1")).to_have_text("Home")
    why = page.locator("#whys li").first
    expect(why).to_contain_text("Waited <b>forever</b>")  # shown as text, not markup
    why.locator("a").click()
    expect(page).to_have_title("Falling Customer · HX Pulse")
    page.go_back()
    page.locator("#movers-rises a").first.click()
    expect(page).to_have_title("Rising Customer · HX Pulse")
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))

    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{server.url}/")
    expect(page.locator("#tile-whys")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the home page is {width} px wide on a 375 px screen"
    for tile in ("#tile-nps", "#tile-whys"):  # one column: each tile as wide as the screen
        box = page.locator(tile).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (tile, box)
