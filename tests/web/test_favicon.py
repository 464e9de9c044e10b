"""The favicon: `/favicon.ico` answers without sign-in, and every page links the SVG mark."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from tests.surveys.invites import HTML, invite, link

ICON = re.compile(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">')


def test_favicon_ico_leads_to_the_svg_without_sign_in(client: TestClient) -> None:
    answer = client.get("/favicon.ico", headers=HTML, follow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["location"] == "/static/favicon.svg"
    icon = client.get("/favicon.ico", headers=HTML)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg") and "#c2185b" in icon.text  # the accent


def test_signed_in_pages_and_the_public_survey_link_the_icon(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    url = link(client, invite(engine, settings))
    for page in (client.get("/login", headers=HTML), client.get(url, headers=HTML)):
        assert page.status_code == 200
        found = ICON.search(page.text)
        assert found is not None, page.text[:400]
        assert found.group(1).endswith("/static/favicon.svg")
        assert client.get(found.group(1)).status_code == 200
