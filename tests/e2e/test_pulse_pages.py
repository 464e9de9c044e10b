"""The Pulse page and the pulse on the customer page, in chromium, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningServer

# the browser fixtures are shared with the first browser test (pytest finds them imported)
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401

pytestmark = pytest.mark.browser


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def test_pulse_page_leads_to_the_customer_most_at_risk(
    server: RunningServer,
    page: Page,  # noqa: F811
) -> None:
    post_events(server, [
        {"type": "purchase", "occurred_at": ago(40), "email": "happy.pulse@example.com",
         "value": 120, "channel": "web", "traits": {"name": "Happy <b>Customer</b>"}},
        {"type": "review", "occurred_at": ago(2), "email": "happy.pulse@example.com", "channel": "web"},
        {"type": "purchase", "occurred_at": ago(90), "email": "angry.pulse@example.com",
         "value": 20, "channel": "store", "traits": {"name": "Angry Customer"}},
        {"type": "complaint", "occurred_at": ago(3), "email": "angry.pulse@example.com",
         "channel": "phone", "department": "support"},
    ])  # fmt: skip
    server.sign_in(page, "/pulse")
    expect(page.locator("h1")).to_have_text("Pulse")
    expect(page.locator("#pulse-spread")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#bands .card")).to_have_count(4)  # thriving, steady, at-risk, lapsed
    expect(page.locator("#early-bands .card")).to_have_count(2)  # warm, cold
    expect(page.locator('#bands [data-band="at-risk"] strong')).to_have_text("1")
    first = page.locator("#at-risk tbody tr").first
    expect(first).to_contain_text("Angry Customer")
    expect(first.locator(".reasons")).to_contain_text("1 unresolved negative experience")
    expect(page.locator("#at-risk")).not_to_contain_text("Happy")
    expect(page.locator("#falls")).to_contain_text("Angry Customer")
    expect(page.locator("#rises")).to_contain_text("Happy <b>Customer</b>")  # shown, not markup

    first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page).to_have_title("Angry Customer · HX Pulse")
    card = page.locator("#pulse-card")
    expect(card.locator(".band")).to_have_text("at-risk")
    expect(card).to_contain_text("investments")
    expect(page.locator("#stage")).to_contain_text("at risk")
    expect(page.locator("#pulse-curve")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#top-events tbody tr").first).to_contain_text("complaint")
    expect(page.locator("#stage-history li").first).to_contain_text("→ customer")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}/pulse")
    expect(page.locator("#at-risk")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Pulse page is {width} px wide on a 390 px screen"

    # the whole at-risk list, a click away: who, and why
    page.locator("#all-at-risk").click()
    expect(page).to_have_url(re.compile(r"/pulse/at-risk$"))
    expect(page.locator("h1")).to_have_text("At risk")
    expect(page.locator("#at-risk-summary strong")).to_have_text("1")
    row = page.locator("#at-risk tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Angry Customer")
    expect(row.locator(".reasons")).to_contain_text("pulse below zero")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the at-risk page is {width} px wide on a 390 px screen"
    row.locator("a").click()
    expect(page).to_have_title("Angry Customer · HX Pulse")
