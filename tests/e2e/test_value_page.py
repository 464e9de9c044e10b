"""The Value page in chromium, on SQLite and PostgreSQL: the CLV histogram is drawn, a top
customer leads to their page with its lifetime value, and on a 375 px phone nothing scrolls
sideways."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from hxpulse.clv import service
from hxpulse.config import Settings
from tests.clv.conftest import NOW, load_sample
from tests.e2e.conftest import RunningServer

# the browser fixtures are shared with the first browser test (pytest finds them imported)
from tests.e2e.test_browser import browser, page  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_value_page(server: RunningServer, page: Page) -> None:  # noqa: F811
    load_sample(server.engine)
    service.fit_and_store(server.engine, Settings().pulse, now=NOW,
                          calibration_end=date(1997, 9, 30))  # fmt: skip
    server.sign_in(page, "/value")
    expect(page.locator("h1")).to_have_text("Value")
    expect(page.locator("#clv-spread")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#clv-spread .main-svg").first).to_be_visible()
    first = page.locator("#top-customers tbody a").first
    shown = page.locator("#top-customers tbody tr").first.locator("td").nth(1).inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("#clv")).to_have_text(shown)
    expect(page.locator("#p-alive")).to_contain_text("%")
    expect(page.locator("#clv-ratio")).to_contain_text("×")
    page.set_viewport_size({"width": 375, "height": 812})
    for path in ("/value", page.url.removeprefix(server.url)):
        page.goto(f"{server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide on a 375 px screen"
