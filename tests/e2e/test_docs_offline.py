"""The API description page works without internet: chromium opens /docs with every request not
to 127.0.0.1 blocked, and sees the operations (and no CSP refusal)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import RunningServer

# the browser fixtures are shared with the first browser test (pytest finds them imported)
from tests.e2e.test_browser import browser, page  # noqa: F401

pytestmark = pytest.mark.browser


def offline(page: Page) -> list[str]:  # noqa: F811
    """Block every request that leaves this machine; return the blocked addresses."""
    blocked: list[str] = []

    def only_here(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_here)
    return blocked


def test_docs_list_the_operations_offline(server: RunningServer, page: Page) -> None:  # noqa: F811
    blocked = offline(page)
    page.goto(f"{server.url}/docs")
    # the page renders the whole schema (over a hundred operations): slow on a busy machine
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() > 30
    expect(page.locator(".opblock-summary-path", has_text="/v1/track").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/users").first).to_be_visible()
    assert blocked == []
