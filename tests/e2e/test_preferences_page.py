"""The preference centre in chromium on a phone without JavaScript, against a real server on
both databases: the customer sees their data, changes consent, asks to be erased; an admin
erases; the SDK's resent batch is dropped and the link says nothing is held any more."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import text

from hxpulse.auth import service as auth
from hxpulse.db.engine import run_write
from hxpulse.privacy import links
from tests.e2e.conftest import RunningServer

# the browser fixture is shared with the first browser test (pytest finds it imported)
from tests.e2e.test_browser import browser  # noqa: F401

pytestmark = pytest.mark.browser
EMAIL = "ann.phone@example.com"
BATCH = {"batch": [
    {"type": "identify", "userId": "ann-phone", "messageId": "p-1",
     "traits": {"email": EMAIL, "name": "Ann Phone", "city": "Leuven"}},
    {"type": "track", "userId": "ann-phone", "event": "purchase", "messageId": "p-2",
     "properties": {"revenue": 42, "currency": "EUR"}},
]}  # fmt: skip


def _consent(server: RunningServer, headers: dict[str, str]) -> dict[str, str | None]:
    got = httpx.get(f"{server.url}/api/customers/{EMAIL}/consent", headers=headers, timeout=30)
    return {p["purpose"]: p["status"] for p in got.json()["purposes"]}


def test_a_customer_on_a_phone_manages_their_data(
    server: RunningServer,
    browser: Browser,  # noqa: F811
) -> None:
    sent = httpx.post(f"{server.url}/v1/batch", json=BATCH, auth=(server.write_key, ""), timeout=30)
    assert sent.status_code == 200 and sent.json()["stored"] == 2

    def setup(conn: object) -> tuple[str, str]:
        _, admin = auth.create_key(conn, name="e2e admin", scopes=["admin"])  # type: ignore[arg-type]
        return auth.session_secret(conn), admin  # type: ignore[arg-type]

    secret, admin_key = run_write(server.engine, setup)
    admin = {"authorization": f"Bearer {admin_key}"}
    with server.engine.connect() as conn:
        customer = conn.execute(text("SELECT customer_id FROM identities WHERE value = :v"),
                                {"v": EMAIL}).scalar_one()  # fmt: skip
    url = f"{server.url}/p/{links.token_for(secret, customer)}"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False,
                                is_mobile=True, has_touch=True)  # fmt: skip
    phone.set_default_timeout(10_000)
    try:
        page = phone.new_page()
        shown = page.goto(url)
        assert shown is not None and shown.status == 200
        expect(page.locator("h1")).to_have_text("Your data and choices")
        expect(page.locator("#held")).to_contain_text(EMAIL)
        expect(page.locator("#held")).to_contain_text("Leuven")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the preference page is {width} px wide on a 390 px screen"
        choice = page.locator("#purpose-surveys label.inline").first
        box = choice.bounding_box()
        assert box is not None and box["height"] >= 44, box  # a finger's target

        page.locator("#purpose-surveys input[value=denied]").tap()
        page.locator("#purpose-email_marketing input[value=granted]").tap()
        page.click("#consent-form button[type=submit]")
        expect(page.locator("#saved")).to_contain_text("Your choices are saved")
        expect(page.locator("#purpose-surveys input[value=denied]")).to_be_checked()
        assert _consent(server, admin) == {"email_marketing": "granted", "surveys": "denied",
                                           "personalisation": None, "profiling": None}  # fmt: skip

        page.click("#erase-link")
        expect(page.locator("h1")).to_have_text("Erase my data")
        page.click("#erase-form button[type=submit]")  # not ticked: the browser holds it back
        expect(page.locator("h1")).to_have_text("Erase my data")
        page.locator("input[name=confirm]").tap()
        page.click("#erase-form button[type=submit]")
        expect(page.locator("h1")).to_have_text("We have your request")

        requests = httpx.get(f"{server.url}/api/privacy/requests", headers=admin, timeout=30)
        assert [r["customer_id"] for r in requests.json()["items"]] == [customer]
        erased = httpx.post(f"{server.url}/api/customers/id:{customer}/erase", headers=admin,
                            timeout=30)  # fmt: skip
        assert erased.status_code == 200 and erased.json()["identities"] == 2

        again = httpx.post(f"{server.url}/v1/batch", json={"batch": [
            {**m, "messageId": f"{m['messageId']}-again"} for m in BATCH["batch"]]},
            auth=(server.write_key, ""), timeout=30)  # fmt: skip
        assert again.status_code == 200
        assert (again.json()["stored"], again.json()["erased"]) == (0, 2)

        page.goto(url)
        expect(page.locator("h1")).to_have_text("We no longer hold your personal data")
        assert EMAIL not in page.content()
    finally:
        phone.close()
    with server.engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM identities")).scalar_one()
    assert found == 0
