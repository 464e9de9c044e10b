"""Tables at phone width (375 px) in chromium, on both databases: the header row is hidden, so
each cell shows its column's label beside its value (the customer list, the customer page's
tables, the segments list); no page scrolls sideways (the case inbox included); at desktop
width the labels are the header row again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningServer

# the browser fixtures are shared with the first browser test (pytest finds them imported)
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
EMAIL = "margaret.hamilton-lovelace.long.address@example-electronics.com"

# where the label of a cell is drawn (its ::before) and where its value starts
LABEL = """td => {
  const before = getComputedStyle(td, '::before');
  const box = td.getBoundingClientRect();
  const value = td.firstElementChild || td;
  const range = document.createRange();
  range.selectNodeContents(td);
  const rects = [...range.getClientRects()];
  const first = rects.length ? rects[0] : value.getBoundingClientRect();
  return {content: before.content, display: before.display, visibility: before.visibility,
          left: box.left + parseFloat(before.left), width: parseFloat(before.width),
          fontSize: parseFloat(before.fontSize), color: before.color,
          valueLeft: first.left, valueTop: first.top, valueWidth: first.width,
          top: box.top + parseFloat(before.top), cellRight: box.right};
}"""

# the innermost elements that stick out on the right, to say what is too wide
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
  .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 5).map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' '
    + Math.round(el.getBoundingClientRect().right) + ' ' + el.textContent.slice(0, 80))"""


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def api(server: RunningServer, method: str, path: str, body: dict[str, Any]) -> Any:
    answer = httpx.request(method, f"{server.url}{path}", json=body, timeout=30,
                           headers={"authorization": f"Bearer {server.api_key}"})  # fmt: skip
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def assert_labelled(tab: Page, cell: str, label: str) -> None:
    """The cell `cell` shows `label` in front of its value, on the same line, both on screen."""
    found = tab.locator(cell).first
    expect(found).to_be_visible()
    seen = found.evaluate(LABEL)
    assert seen["content"] == f'"{label}"', seen
    assert seen["display"] != "none" and seen["visibility"] == "visible", seen
    assert seen["fontSize"] >= 10 and seen["color"] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert 0 <= seen["left"] and seen["width"] > 40, seen  # on screen, wide enough to read
    assert seen["valueLeft"] >= seen["left"] + seen["width"], seen  # beside, not over
    assert seen["valueLeft"] + seen["valueWidth"] <= seen["cellRight"] + 1, seen
    assert abs(seen["valueTop"] - seen["top"]) < 12, seen  # on the same line


def assert_no_sideways_scroll(tab: Page) -> None:
    width = tab.evaluate("document.documentElement.scrollWidth")
    wide = tab.evaluate(WIDE) if width > PHONE["width"] else []
    assert width <= PHONE["width"], f"{tab.url} is {width} px wide on a 375 px screen: {wide}"


def test_tables_show_their_labels_at_phone_width(server: RunningServer, page: Page) -> None:  # noqa: F811
    # first, while nothing else writes (the segment route's transaction does not queue
    # behind the dispatcher's on SQLite)
    api(server, "POST", "/api/segments", {"name": "Buyers of long things", "description":
        "Everyone who bought at least once", "definition": {"event": {"type": "purchase"}}})  # fmt: skip
    post_events(server, [
        {"type": "identify", "occurred_at": ago(30), "email": EMAIL,
         "traits": {"name": "Margaret Hamilton-Lovelace of the Very Long Name"}},
        {"type": "purchase", "occurred_at": ago(2), "email": EMAIL, "channel": "store",
         "value": 1234.5, "currency": "EUR"},
        {"type": "page_view", "occurred_at": ago(1), "email": "second.customer@example.com"},
    ])  # fmt: skip
    api(server, "POST", "/api/surveys", {"name": "Relationship NPS", "kind": "nps"})
    api(server, "POST", "/api/responses", {"responses": [{
        "survey": "Relationship NPS", "score": 3, "email": EMAIL, "answered_at": ago(1),
        "why": "The delivery took three weeks and nobody answered the phone, twice."}]})  # fmt: skip
    api(server, "POST", "/api/cases", {"customer": EMAIL,
        "reason": "Parcel arrived damaged and the replacement never came"})  # fmt: skip

    server.sign_in(page, "/customers")
    labels = page.locator("table.list#customers tbody tr").first.locator("td.pulse")
    assert labels.evaluate("td => getComputedStyle(td, '::before').content") in ("none", "normal")
    expect(page.locator("table.list#customers thead")).to_be_visible()

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("table.list#customers thead")).to_be_hidden()
    assert_labelled(page, "table.list#customers td.pulse", "Pulse")
    assert_labelled(page, "table.list#customers td.touchpoints", "Touchpoints")
    assert_labelled(page, "table.list#customers td.idents", "Identities")
    assert_no_sideways_scroll(page)

    page.locator("table.list#customers a", has_text="Margaret").click()
    expect(page.locator("#answer-list")).to_be_visible()
    assert_labelled(page, "#answer-list td.why", "Why")
    assert_labelled(page, "#answer-list td.score", "Score")
    expect(page.locator("#answer-list td.why")).to_contain_text("three weeks")
    assert_labelled(page, "#consent td.consent-status", "Answer")
    assert_labelled(page, "#top-events td.num", "Weight")
    assert_no_sideways_scroll(page)

    page.goto(f"{server.url}/segments")
    assert_labelled(page, "table.segments td.num", "Customers now")
    assert_labelled(page, "table.segments td:last-child", "Description")
    assert_no_sideways_scroll(page)
    page.locator("table.segments a", has_text="Buyers").click()
    assert_labelled(page, "table.list td:nth-child(2)", "Email")
    assert_no_sideways_scroll(page)

    page.goto(f"{server.url}/cases?tab=all")
    expect(page.locator("#cases .case-item").first).to_be_visible()
    assert_no_sideways_scroll(page)
