"""Security headers on pages, API answers, public survey pages and the API description pages;
templates and scripts that keep to the Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.web.headers import PAGE_POLICY
from tests.auth.helpers import app_with, person, sign_in

WEB = Path(__file__).parents[2] / "src" / "hxpulse" / "web"


def test_signed_in_pages_and_api_answers_are_locked_down(
    client: TestClient, engine: Engine
) -> None:
    person(engine, "ann@example.com", role="analyst")
    sign_in(client, "ann@example.com")
    page = client.get("/customers")
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src 'self';" in PAGE_POLICY and "frame-ancestors 'none'" in PAGE_POLICY
    assert "unsafe-inline" not in PAGE_POLICY and "unsafe-eval" not in PAGE_POLICY
    for answer in (page, client.get("/api/customers"), client.get("/api/account")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in answer.headers  # the public URL is http
    api = client.get("/api/customers")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    static = client.get("/static/style.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
    assert static.headers["x-content-type-options"] == "nosniff"


def test_hsts_when_the_public_url_is_https(settings: Settings, engine: Engine) -> None:
    with app_with(settings, public_url="https://cx.example.com") as app, TestClient(app) as client:
        assert client.get("/login").headers["strict-transport-security"] == "max-age=31536000"


def test_public_survey_pages_keep_their_own_policy(client: TestClient) -> None:
    page = client.get("/s/not-a-token")
    assert page.status_code == 404
    assert page.headers["referrer-policy"] == "no-referrer"  # the link is a secret
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert page.headers["cache-control"] == "no-store" and "set-cookie" not in page.headers


def test_templates_have_no_inline_script_style_or_handler() -> None:
    for template in sorted((WEB / "templates").glob("*.html")):
        source = template.read_text()
        for script in re.findall(r"<script\b([^>]*)>", source):
            assert "src=" in script or 'type="application/json"' in script, template.name
        assert not re.search(r"<style\b", source), template.name
        assert not re.search(r"\sstyle=", source), template.name
        assert not re.search(r"\son[a-z]+=", source), template.name
        assert "javascript:" not in source, template.name
    for script in sorted((WEB / "static").glob("*.js")):
        assert not re.search(r"\beval\(|new Function\(", script.read_text()), script.name


def test_the_api_pages_are_served_without_internet(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assets = re.findall(r'(?:href|src)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/vendor/docs/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    [inline] = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    policy = docs.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/redoc").status_code == 404  # dropped: ReDoc loads its logo from a CDN
