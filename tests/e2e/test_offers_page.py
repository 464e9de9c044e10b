"""The Offers page in chromium, on both databases: the chart of acceptance model against
holdout is drawn (under the CSP), and at phone width (375 px) the tables show each cell's
label and nothing scrolls sideways."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from hxpulse.db.engine import run_write
from hxpulse.offers import service
from hxpulse.offers.settings import OfferIn
from tests.e2e.conftest import RunningServer
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401  (fixtures)
from tests.e2e.test_phone_tables import PHONE, ago, assert_labelled, assert_no_sideways_scroll

pytestmark = pytest.mark.browser


def test_the_offers_page(server: RunningServer, page: Page) -> None:  # noqa: F811
    now = datetime.now(UTC)
    run_write(server.engine, lambda conn: [service.create(conn, OfferIn(
        key=f"offer-{n}", name=f"A rather long offer name number {n}", kind="incentive",
        value=25.0), now=now) for n in range(3)])  # fmt: skip
    post_events(server, [{"type": "purchase", "occurred_at": ago(1), "value": 30.0,
                          "email": f"buyer{n}@example.com"} for n in range(4)])  # fmt: skip
    headers = {"authorization": f"Bearer {server.api_key}"}
    for n in range(4):
        got = httpx.get(f"{server.url}/api/customers/buyer{n}@example.com/offers",
                        headers=headers, timeout=30)  # fmt: skip
        assert got.status_code == 200, got.text
        first = got.json()["offers"][0]
        answer = httpx.post(f"{server.url}/api/customers/buyer{n}@example.com/offers/responses",
                            json={"response": "accepted", "exposure_id": first["exposure_id"]},
                            headers=headers, timeout=30)  # fmt: skip
        assert answer.status_code == 201, answer.text
    server.sign_in(page, "/offers")
    expect(page.locator("#offers-chart")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#catalogue tbody tr")).to_have_count(3)
    page.set_viewport_size(PHONE)
    page.reload()
    assert_labelled(page, "#offers-report td[data-label='Acceptance (model)']",
                    "Acceptance (model)")  # fmt: skip
    assert_labelled(page, "#catalogue td[data-label='Kind']", "Kind")
    assert_no_sideways_scroll(page)
