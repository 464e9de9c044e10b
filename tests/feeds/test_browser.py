"""The live feeds in chromium against a real `hxpulse serve`: the team-feed page shows a new
case as it arrives (under the page's CSP), and a shop's page on another origin follows a
customer's feed with `EventSource` and the token its backend asked for."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hxpulse.config import Settings
from hxpulse.feeds import actions
from hxpulse.outbox.dispatch import Context
from tests.e2e.conftest import RunningServer, server  # noqa: F401 - the fixture
from tests.e2e.test_browser import browser, page  # noqa: F401 - the fixtures
from tests.e2e.test_website import Site
from tests.feeds.helpers import context, customer, delivery

pytestmark = pytest.mark.browser

SHOP_PAGE = """<!doctype html><html><head><title>Shop</title></head><body><ol id="got"></ol>
<script>
window.got = [];
const feed = new EventSource(%(url)s);
feed.addEventListener("notification", (e) => {
  const data = JSON.parse(e.data);
  window.got.push({id: e.lastEventId, title: data.title});
  const li = document.createElement("li"); li.textContent = data.title;
  document.getElementById("got").append(li);
});
feed.onopen = () => { window.opened = true; };
</script></body></html>"""


def _ctx(served: RunningServer) -> Context:
    return context(served.engine, Settings(database_url=served.database_url))


def test_the_team_feed_page_shows_a_new_case_as_it_arrives(
    server: RunningServer,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    server.sign_in(page, "/feed")
    expect(page.locator("#feed-status")).to_have_text("live")
    made = delivery("feed", {"scope": "team", "team": None, "type": "case.opened",
                             "data": {"case_id": 7, "title": "Parcel arrived broken"}})  # fmt: skip
    assert actions.handle_feed(_ctx(server), made).ok
    expect(page.locator("#feed li").first).to_contain_text("Parcel arrived broken", timeout=3000)
    expect(page.locator("#feed li").first).to_contain_text("case.opened")
    page.reload()  # the page lists it from then on
    expect(page.locator("#feed li")).to_have_count(1)


def test_the_team_feed_page_names_the_customer(
    server: RunningServer,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    cid = customer(server.engine, "chloe@example.com", traits={"name": "Chloe Okafor"})
    server.sign_in(page, "/feed")
    expect(page.locator("#feed-status")).to_have_text("live")
    for data in ({"customer_id": cid, "message": "Chloe is at risk"}, {"customer_id": 10**12}):
        made = delivery("feed", {"scope": "team", "type": "rule.fired", "data": data})
        assert actions.handle_feed(_ctx(server), made).ok
    links = page.locator("#feed li a")
    expect(links).to_have_text([f"customer {10**12}", "Chloe Okafor"], timeout=3000)
    expect(links.last).to_have_attribute("href", f"/customers/{cid}")
    page.reload()  # and as the server lists it
    expect(links).to_have_text([f"customer {10**12}", "Chloe Okafor"])
    expect(links.last).to_have_attribute("href", f"/customers/{cid}")


def test_a_shop_s_page_on_another_origin_follows_its_customer_s_feed(
    server: RunningServer,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    cid = customer(server.engine, "ann@example.com", traits={"preferences": {"notify_by": "feed"}})
    issued = httpx.post(f"{server.url}/api/customers/id:{cid}/feed-token",
                        headers={"authorization": f"Bearer {server.api_key}"})  # fmt: skip
    assert issued.status_code == 200, issued.text
    html = SHOP_PAGE % {"url": json.dumps(issued.json()["url"])}
    with Site({"/": ("text/html", html.encode())}) as site:
        tab = browser.new_context().new_page()
        try:
            tab.goto(site.origin + "/")
            tab.wait_for_function("window.opened === true", timeout=5000)
            told = delivery("notify", {"title": "Your case is resolved", "message": "Refunded"},
                            cid)  # fmt: skip
            assert actions.handle_notify(_ctx(server), told).ok
            tab.wait_for_function("window.got.length === 1", timeout=3000)
            got = tab.evaluate("window.got")
            assert got[0]["title"] == "Your case is resolved" and int(got[0]["id"]) > 0
        finally:
            tab.context.close()
