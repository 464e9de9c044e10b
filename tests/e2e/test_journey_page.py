"""The Journey page in chromium, on both databases: funnel chart, table, filters, phone width."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningServer
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def day(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def test_journey_page_shows_the_funnel_and_filters_it(
    server: RunningServer,
    page: Page,  # noqa: F811
) -> None:
    post_events(server, [
        {"type": "page_view", "occurred_at": ago(30), "email": "ann.journey@example.com", "channel": "web"},
        {"type": "signup", "occurred_at": ago(28), "email": "ann.journey@example.com", "channel": "web"},
        {"type": "purchase", "occurred_at": ago(20), "email": "ann.journey@example.com",
         "channel": "store", "department": "<i>sales</i>", "value": 40},
        {"type": "purchase", "occurred_at": ago(10), "email": "ann.journey@example.com",
         "channel": "store", "department": "<i>sales</i>", "value": 30},
        {"type": "page_view", "occurred_at": ago(5), "email": "bob.journey@example.com", "channel": "app"},
        {"type": "purchase", "occurred_at": ago(4), "email": "cy.journey@example.com", "channel": "web"},
        {"type": "complaint", "occurred_at": ago(2), "email": "cy.journey@example.com", "channel": "phone"},
    ])  # fmt: skip
    server.sign_in(page, "/journey")
    expect(page.locator("h1")).to_have_text("Journey")
    expect(page.locator("#journey-funnel")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#journey-funnel .barlayer .trace")).to_have_count(2)  # entered, went on
    rows = page.locator("#funnel-table tbody tr")
    expect(rows).to_have_count(6)
    # ann: prospect 30 days ago, lead 28, customer 20, repeat customer 10; bob: prospect 5;
    # cy: customer 4 (enters there)
    for stage, entered, went_on, conversion, median in [
        ("prospect", "2", "1", "50.0%", "2.0"),  # ann went on after 2 days, bob did not
        ("lead", "1", "1", "100.0%", "8.0"),
        ("qualified_lead", "0", "0", "—", "—"),
        ("customer", "2", "1", "50.0%", "10.0"),  # ann's 10 days; cy has not gone on
        ("repeat_customer", "1", "0", "0.0%", "—"),
        ("advocate", "0", "0", "—", "—"),
    ]:
        row = page.locator(f'tr[data-stage="{stage}"]')
        expect(row.locator(".entered")).to_have_text(entered)
        expect(row.locator(".went-on")).to_have_text(went_on)
        expect(row.locator(".conversion")).to_have_text(conversion)
        expect(row.locator(".median")).to_have_text(median)
    expect(page.locator('tr[data-stage="customer"] .current')).to_have_text("1")
    expect(page.locator("#at-risk-total")).not_to_have_text("0")

    # the form works without JavaScript too: it is a plain GET form
    page.select_option("#channel", "store")
    page.fill("#department", "<i>sales</i>")
    page.fill("#start", day(25))
    page.fill("#end", day(0))
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(
        f"{server.url}/journey?start={day(25)}&end={day(0)}&channel=store"
        "&department=%3Ci%3Esales%3C%2Fi%3E")  # fmt: skip
    expect(page.locator("#journey-scope")).to_contain_text("through store, in <i>sales</i>")
    # ann's entries through the store in <i>sales</i>: customer (gone on) and repeat customer
    expect(page.locator('tr[data-stage="prospect"] .entered')).to_have_text("0")
    expect(page.locator('tr[data-stage="customer"] .entered')).to_have_text("1")
    expect(page.locator('tr[data-stage="customer"] .conversion')).to_have_text("100.0%")
    expect(page.locator('tr[data-stage="repeat_customer"] .entered')).to_have_text("1")
    expect(page.locator("#department")).to_have_value("<i>sales</i>")

    page.goto(f"{server.url}/journey?start=tomorrow")
    expect(page.locator("#journey-errors")).to_contain_text("start")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}/journey")
    expect(page.locator("#funnel-table")).to_be_visible()
    expect(page.locator("#journey-funnel")).to_have_attribute("data-drawn", "true")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Journey page is {width} px wide on a 390 px screen"
