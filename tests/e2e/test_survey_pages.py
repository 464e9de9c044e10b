"""The survey pages in chromium, on both databases: create a survey with the form, invite a
customer, answer on the public page with the keyboard alone, find the link used up, read the
answer on the NPS page (escaped); bad links, and the survey page on a phone without JavaScript."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.surveys import links, service
from tests.e2e.conftest import RunningServer

# the browser fixtures are shared with the first browser test (pytest finds them imported)
from tests.e2e.test_browser import browser, page, post_events  # noqa: F401
from tests.surveys.helpers import answer, make_survey

pytestmark = pytest.mark.browser

EMAIL = "ann.survey@example.com"
XSS = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">'
CUSTOM_QUESTION = "What went wrong, <b>honestly</b>?"


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def test_create_invite_answer_by_keyboard_and_read_it(
    server: RunningServer,
    browser: Browser,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    post_events(server, [{"type": "purchase", "occurred_at": ago(3), "email": EMAIL,
                          "channel": "web", "value": 30, "department": "support"}])  # fmt: skip
    server.sign_in(page, "/surveys")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Surveys")
    expect(page.locator(".empty")).to_contain_text("No surveys yet")

    # the form: a mistake is shown next to its field, then the survey is created
    page.click("text=New survey")
    expect(page.locator("fieldset[data-kind=csat]")).to_be_hidden()  # only the kind's bands
    expect(page.locator("#question")).to_have_attribute("placeholder", re.compile("recommend"))
    expect(page.locator("[name='followups.nps.detractor']")).to_have_value(
        "What could we do better?"
    )
    page.select_option("#kind", "csat")
    expect(page.locator("#question")).to_have_attribute("placeholder", re.compile("satisfied"))
    page.select_option("#kind", "nps")
    page.fill("#name", "Support NPS")
    page.fill("#every_days", "7")  # recurring without a segment
    page.click("#survey-definition button[type=submit]")
    expect(page.locator("#err-segment_id")).to_contain_text("give both a segment")
    expect(page.locator("#segment_id")).to_have_attribute("aria-invalid", "true")
    page.fill("#every_days", "")
    page.fill("#department", "support")
    page.fill("[name='followups.nps.detractor']", CUSTOM_QUESTION)
    page.click("#survey-definition button[type=submit]")
    expect(page).to_have_url(re.compile(r"/surveys/\d+$"))
    expect(page.locator("h1")).to_have_text("Support NPS")
    expect(page.locator("[name='followups.nps.detractor']")).to_have_value(CUSTOM_QUESTION)

    # invite the customer: one link; a second invitation is held back by the fatigue guard
    page.fill("#invite-customer", EMAIL)
    page.click("#invite-form button[type=submit]")
    invited = page.locator("#invite-result .invite-link")
    expect(invited).to_have_count(1)
    link = invited.get_attribute("href") or ""  # the full link, as the customer gets it
    assert re.fullmatch(rf"{re.escape(server.url)}/s/[\w.-]+", link), link
    expect(invited).to_have_text(link)
    expect(page.locator("#invited-count")).to_have_text("1")
    page.click("#invite-form button[type=submit]")
    expect(page.locator("#invite-result .reason")).to_contain_text("invited to this survey today")

    # the customer, with no session and a phone-sized screen, answers with the keyboard alone
    customer = browser.new_context(viewport={"width": 390, "height": 844})
    customer.set_default_timeout(10_000)
    try:
        answer = customer.new_page()
        opened = answer.goto(link)
        assert opened is not None and opened.status == 200
        expect(answer.locator("legend")).to_contain_text("How likely are you to recommend")
        expect(answer.locator("#followup")).to_be_hidden()
        expect(answer.locator(".score-face")).to_have_count(11)
        width = answer.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the survey page is {width} px wide on a 390 px screen"
        answer.keyboard.press("Tab")
        assert answer.evaluate("document.activeElement.name") == "score"
        for _ in range(3):
            answer.keyboard.press("ArrowRight")
        answer.keyboard.press("Space")
        expect(answer.locator("input[name=score]:checked")).to_have_value("3")
        expect(answer.locator("#followup")).to_be_visible()
        expect(answer.locator("#followup-question")).to_have_text(CUSTOM_QUESTION)  # as text
        answer.keyboard.press("Enter")  # on to the why, nothing sent yet
        assert answer.evaluate("document.activeElement.id") == "why"
        answer.keyboard.type(XSS)
        answer.keyboard.press("Tab")
        assert answer.evaluate("document.activeElement.textContent") == "Submit"
        answer.keyboard.press("Enter")
        expect(answer.locator("#thanks h1")).to_have_text("Thank you!")
        assert customer.cookies() == []  # the public page set no session

        again = answer.goto(link)
        assert again is not None and again.status == 410
        expect(answer.locator("h1")).to_have_text("This link has already been used")
        expect(answer.locator("#link-used")).to_contain_text("we have your answer")
    finally:
        customer.close()

    # the answer on the NPS page: counted, broken down, and its why shown as text
    page.goto(f"{server.url}/nps")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("NPS")
    expect(page.locator("#overall-n")).to_have_text("1")
    expect(page.locator("#overall-value")).to_have_text("-100.0")
    expect(page.locator("#too-small")).to_contain_text("too few answers to read")
    expect(page.locator("#nps-trend")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#nps-mix")).to_have_attribute("data-drawn", "true")
    support = page.locator("#breakdown tr[data-group=support]")
    expect(support.locator(".n")).to_have_text("1")
    expect(support).to_have_class(re.compile("too-small"))
    expect(page.locator("#latest-answers .why")).to_have_text(XSS)
    assert page.evaluate("window.hacked") is None
    assert page.locator("img[src=x]").count() == 0
    page.goto(f"{server.url}/surveys")
    row = page.locator("#surveys tr", has_text="Support NPS")
    expect(row.locator(".invited")).to_have_text("1")
    expect(row.locator(".answers")).to_have_text("1")
    expect(row.locator(".rate")).to_have_text("100.0%")


def invitation(server: RunningServer, email: str) -> tuple[str, int]:
    """The server's link secret and a fresh invitation for a new customer with `email`."""
    post_events(server, [{"type": "purchase", "occurred_at": ago(1), "email": email,
                          "channel": "store", "value": 10}])  # fmt: skip
    settings = Settings(database_url=server.database_url)
    now = datetime.now(UTC)

    def work(conn: Any) -> tuple[str, int]:
        survey = service.ensure(conn, "Store CSAT", "csat", settings=settings.surveys, now=now)
        customer = conn.execute(text("SELECT customer_id FROM identities WHERE value = :v"),
                                {"v": email}).scalar_one()  # fmt: skip
        made = service.invite(conn, survey, [customer], settings=settings.surveys, now=now)
        return auth.session_secret(conn), made.invited[0].invitation_id

    return run_write(server.engine, work)


def test_bad_links_and_a_phone_without_javascript(
    server: RunningServer,
    browser: Browser,  # noqa: F811
) -> None:
    secret, invited = invitation(server, "bo.survey@example.com")
    token = links.token_for(secret, invited)

    class Past(TimestampSigner):  # signs as if 15 days ago: past the 14 days a link lasts
        def get_timestamp(self) -> int:
            return int(time.time()) - 15 * 86400

    expired = URLSafeTimedSerializer(secret, salt=links.SALT, signer=Past).dumps(invited)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False,
                                is_mobile=True, has_touch=True)  # fmt: skip
    phone.set_default_timeout(10_000)
    try:
        page = phone.new_page()
        for bad, status, title in ((token[:-3] + "xyz", 404, "This link is not valid"),
                                   (expired, 410, "This link has expired")):  # fmt: skip
            shown = page.goto(f"{server.url}/s/{bad}")
            assert shown is not None and shown.status == status
            expect(page.locator("h1")).to_have_text(title)

        page.goto(f"{server.url}/s/{token}")
        expect(page.locator("legend")).to_contain_text("How satisfied are you")
        faces = page.locator(".score-face")
        expect(faces).to_have_count(5)
        for index in range(5):
            box = faces.nth(index).bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, box
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the survey page is {width} px wide on a 390 px screen"

        page.locator("label.score").nth(1).tap()  # the score 2: unsatisfied
        page.click("button[value=score]")
        expect(page.locator("#followup-question")).to_have_text("What went wrong?")
        expect(page.locator("#chosen-score")).to_have_text("2")
        page.fill("#why", "The queue was long.")
        page.click("button[value=why]")
        expect(page.locator("#thanks")).to_contain_text("We have your answer")
    finally:
        phone.close()
    with server.engine.connect() as conn:
        rows = conn.execute(text("SELECT score, band, why FROM survey_responses")).all()
    assert [tuple(r) for r in rows] == [(2, "unsatisfied", "The queue was long.")]


def test_nps_page_breakdown_filters_and_themes(
    server: RunningServer,
    page: Page,  # noqa: F811
) -> None:
    settings = Settings(database_url=server.database_url)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for i in range(30):  # support: mostly detractors about delivery; sales: promoters about staff
        rows.append(
            {
                "survey": "Relationship NPS",
                "score": 2 if i % 5 else 9,
                "department": "support",
                "answered_at": (now - timedelta(days=i % 9)).isoformat(),
                "email": f"s{i}@example.com",
                "why": "The delivery was late again, late delivery" if i % 5 else "Friendly staff",
            }
        )
        rows.append(
            {
                "survey": "Relationship NPS",
                "score": 10 if i % 5 else 6,
                "department": "sales",
                "answered_at": (now - timedelta(days=i % 9)).isoformat(),
                "email": f"p{i}@example.com",
                "why": "Friendly staff, very helpful staff" if i % 5 else "The delivery was late",
            }
        )
    for score in (5, 4, 1):
        rows.append({"survey": "Store CSAT", "score": score, "answered_at": now.isoformat(),
                     "email": f"c{score}@example.com", "why": "ok"})  # fmt: skip
    make_survey(server.engine, settings, now)
    make_survey(server.engine, settings, now, name="Store CSAT", kind="csat")
    answer(server.engine, settings, now, *rows)

    server.sign_in(page, "/nps")
    expect(page.locator("#overall-n")).to_have_text("60")
    expect(page.locator("#too-small")).to_have_count(0)
    support = page.locator("#breakdown tr[data-group=support] .sig")
    expect(support).to_contain_text("significantly below the rest")
    expect(support).to_have_attribute("title", re.compile(r"p = 0\.\d{3}"))
    expect(page.locator("#breakdown tr[data-group=sales] .sig")).to_contain_text(
        "significantly above the rest"
    )
    expect(page.locator("#trend-table tbody tr")).not_to_have_count(0)

    # the filters are a plain GET form
    page.fill("#f-department", "sales")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"department=sales"))
    expect(page.locator("#overall-n")).to_have_text("30")
    expect(page.locator("#overall-value")).to_have_text("+60.0")

    # themes: discover, read their impact, rename one, merge another into it
    page.goto(f"{server.url}/nps?period=month")
    expect(page.locator("#themes .empty")).to_contain_text("No themes yet")
    page.click("#discover")
    expect(page).to_have_url(re.compile(r"/nps\?period=month#themes$"))
    themes = page.locator("#theme-table tbody tr")
    expect(themes).not_to_have_count(0)
    count = themes.count()
    assert count >= 2, page.locator("#theme-table").inner_text()
    delivery = themes.filter(has_text="delivery").first
    expect(delivery.locator(".impact")).to_contain_text("points higher without it")
    delivery.locator("input[name=name]").fill("Late <delivery>")
    delivery.locator("button", has_text="Rename").click()
    expect(page.locator(".theme-name").first).to_have_text("Late <delivery>")
    other = themes.filter(has_not=page.locator(".theme-name", has_text="Late <delivery>")).first
    other.locator("select[name=into]").select_option(label="Late <delivery>")
    other.locator("button", has_text="Merge").click()
    expect(themes).to_have_count(count - 1)

    # the same page reads CSAT
    page.select_option("#f-kind", "csat")
    page.click("form.filters button[type=submit]")
    expect(page.locator("h1")).to_have_text("CSAT")
    expect(page.locator("#overall-n")).to_have_text("3")
    expect(page.locator("#overall-value")).to_have_text("66.7%")
    expect(page.locator("#themes")).to_have_count(0)


def test_nps_weeks_are_named_as_dates_that_fit_the_chart(
    server: RunningServer,
    page: Page,  # noqa: F811
) -> None:
    settings = Settings(database_url=server.database_url)
    now = datetime.now(UTC)
    moments = [now - timedelta(weeks=w) for w in range(20)]
    rows = [{"survey": "Relationship NPS", "score": (9, 3, 7)[n % 3], "answered_at": m.isoformat(),
             "email": f"w{n}@example.com"} for n, m in enumerate(moments)]  # fmt: skip
    make_survey(server.engine, settings, now)
    answer(server.engine, settings, now, *rows)
    mondays = sorted({m.date() - timedelta(days=m.weekday()) for m in moments})

    server.sign_in(page, "/nps")
    for chart in ("#nps-trend", "#nps-mix"):
        expect(page.locator(chart)).to_have_attribute("data-drawn", "true")
        ticks = page.locator(f"{chart} .xtick text")
        names = ticks.all_text_contents()
        assert len(names) >= 4, names
        shown = [datetime.strptime(name, "%d %b %Y").date() for name in names]  # "2 Jun 2026"
        assert shown[0] == mondays[0] and shown == sorted(shown), names
        assert set(shown) <= set(mondays), names  # each the Monday of a week with answers
        area = page.locator(chart).bounding_box()
        legend = page.locator(f"{chart} .legend").bounding_box()
        assert area is not None and legend is not None
        boxes = [box for tick in ticks.all() if (box := tick.bounding_box()) is not None]
        assert len(boxes) == len(names)
        for box in boxes:  # whole, level, and clear of the legend
            assert area["y"] <= box["y"] and box["y"] + box["height"] <= area["y"] + area["height"]
            assert area["x"] <= box["x"] and box["x"] + box["width"] <= area["x"] + area["width"]
            assert box["width"] > box["height"], "a tick name is not written level"
            assert box["y"] >= legend["y"] + legend["height"] or (
                box["y"] + box["height"] <= legend["y"]
            ), "a tick name runs into the legend"
        for left, right in zip(boxes, boxes[1:], strict=False):
            assert left["x"] + left["width"] < right["x"], "two tick names overlap"


def test_a_double_submit_stores_one_answer(server: RunningServer) -> None:
    secret, invited = invitation(server, "cy.survey@example.com")
    url = f"{server.url}/s/{links.token_for(secret, invited)}"
    barrier = threading.Barrier(6)

    def post(_: int) -> int:
        barrier.wait()
        form = {"score": "4", "step": "why", "why": "Twice?"}
        return httpx.post(url, data=form, timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(post, range(6)))
    assert statuses == [200, 410, 410, 410, 410, 410], statuses
    with server.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_responses")).scalar() == 1
        assert (
            conn.execute(
                text("SELECT count(*) FROM events WHERE type = 'survey_response'")
            ).scalar()
            == 1
        )
