"""The Segments page in chromium, on both databases: build a segment, watch the live count
change as the conditions change, save it, read its members, and use it on a phone."""

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


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def purchases(email: str, channel: str, days: list[float]) -> list[dict[str, object]]:
    return [{"type": "purchase", "occurred_at": ago(d), "email": email, "channel": channel,
             "value": 20, "traits": {"name": f"<em>{email.split('@')[0]}</em>"}}
            for d in days]  # fmt: skip


def test_build_count_save_and_read_a_segment(server: RunningServer, page: Page) -> None:  # noqa: F811
    post_events(server, [
        *purchases("app.twice.seg@example.com", "app", [3, 40]),
        *purchases("app.thrice.seg@example.com", "app", [1, 2, 60]),
        *purchases("app.once.seg@example.com", "app", [5]),
        *purchases("web.twice.seg@example.com", "web", [4, 8]),
        *purchases("app.old.seg@example.com", "app", [100, 200]),
    ])  # fmt: skip
    server.sign_in(page, "/segments")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Segments")

    count = page.locator("#live-count")
    expect(count).to_have_text("—")  # no condition yet
    row = page.locator("[data-row]").first
    row.locator("[data-part=subject]").select_option("event")
    expect(row.locator("[data-part=op]")).to_be_hidden()  # events need no operator
    row.locator("[data-part=key]").fill("purchase")
    expect(count).to_have_text("5")
    row.locator("[data-part=channel]").select_option("app")
    expect(count).to_have_text("4")
    row.locator("[data-part=days]").fill("90")
    expect(count).to_have_text("3")
    row.locator("[data-part=min]").fill("2")
    expect(count).to_have_text("2")

    # a second condition, added with the button, narrowed with "not"
    page.click("#add-condition")
    rows = page.locator("[data-row]")
    last = rows.last
    expect(last.locator("legend")).to_have_text(f"Condition {rows.count()}")
    last.locator("[data-part=subject]").select_option("event")
    last.locator("[data-part=key]").fill("purchase")
    last.locator("[data-part=min]").fill("3")
    last.locator("input[type=checkbox]").check()
    expect(count).to_have_text("1")  # bought twice lately via the app, but not three times

    # a mistake is explained where it is, and the count waits for a valid definition
    second = rows.nth(1)
    second.locator("[data-part=subject]").select_option("pulse")
    second.locator("[data-part=value]").fill("lots")
    expect(page.locator("#count-error")).to_contain_text("definition.all[1].value")
    expect(count).to_have_text("—")
    second.locator("[data-part=value]").fill("1000")
    # the operators read as words; the form still sends their codes
    offered = second.locator("[data-part=op] option:not([hidden])")
    expect(offered).to_have_text(["less than", "at most", "more than", "at least"])
    assert [o.get_attribute("value") for o in offered.all()] == ["lt", "lte", "gt", "gte"]
    second.locator("[data-part=op]").select_option(label="less than")
    expect(count).to_have_text("1")

    page.fill("#seg-name", "App <regulars>")
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.locator("h1")).to_have_text("App <regulars>")
    saved_at = page.url.replace(server.url, f"{server.url}/api")
    stored = httpx.get(saved_at, headers={"authorization": f"Bearer {server.api_key}"}, timeout=30)
    assert stored.status_code == 200, stored.text
    assert stored.json()["definition"]["all"][1] == {"field": "pulse", "op": "lt", "value": 1000}
    expect(page.locator("#member-count")).to_have_text("1")
    members = page.locator("table.list tbody tr")
    expect(members).to_have_count(1)
    expect(members.first).to_contain_text("<em>app.twice.seg</em>")  # shown as text
    expect(members.first).to_contain_text("app.twice.seg@example.com")
    href = page.locator("a[download]").get_attribute("href")
    assert href is not None and href.endswith("/export.csv")
    exported = page.request.get(f"{server.url}{href}")
    assert exported.status == 200 and "app.twice.seg@example.com" in exported.text()

    page.goto(f"{server.url}/segments")
    saved = page.locator("table.segments tbody tr")
    expect(saved).to_have_count(1)
    expect(saved.first).to_contain_text("App <regulars>")
    expect(saved.first.locator("td.num")).to_have_text("1")

    # on a phone: the builder fits the screen and still counts
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    row = page.locator("[data-row]").first
    row.locator("[data-part=subject]").select_option("event")
    row.locator("[data-part=key]").fill("purchase")
    expect(page.locator("#live-count")).to_have_text("5")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
