"""A shop's web page loads the real browser SDKs from npm (Segment's analytics.js and
RudderStack's JavaScript SDK) in chromium and sends to a real `hxpulse serve` on another origin:
the page view, identify and track are stored; a page on an origin its key does not list is
refused. Only 127.0.0.1 is reached: requests to any other host are blocked and recorded."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route
from sqlalchemy import text

from hxpulse.auth import service as auth
from tests.e2e.conftest import RunningServer
from tests.e2e.test_browser import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).parent.parent.parent
MODULES = ROOT / ".cache" / "browser-sdks" / "node_modules"
SEGMENT_JS = MODULES / "@segment" / "analytics-next" / "dist" / "umd" / "index.js"
RUDDER_JS = MODULES / "@rudderstack" / "analytics-js" / "dist" / "npm" / "modern" / "bundled" / "umd" / "index.js"  # fmt: skip

SEGMENT_PAGE = """<!doctype html><html><head><title>Shop</title>
<script src="/sdk.js"></script></head><body><h1>Shop</h1><script>
window.sent = (async () => {
  const [analytics] = await AnalyticsNext.AnalyticsBrowser.load(
    {writeKey: %(key)s, cdnURL: %(server)s});
  await analytics.page("Home");
  await analytics.identify("web-ada", {email: "Ada@Example.com", name: "Ada"});
  await analytics.track("Order Completed", {revenue: 19.9, currency: "EUR"});
  return "sent";
})().catch((error) => "failed: " + error.message);
</script></body></html>"""

RUDDER_PAGE = """<!doctype html><html><head><title>Shop</title>
<script src="/sdk.js"></script></head><body><h1>Shop</h1><script>
const analytics = new window.rudderanalytics.RudderAnalytics();  // the npm bundle's class
analytics.load(%(key)s, %(server)s, {configUrl: %(server)s, logLevel: "ERROR"});
analytics.ready(() => {
  analytics.page("Home");
  analytics.identify("web-ada", {email: "Ada@Example.com", name: "Ada"});
  analytics.track("Order Completed", {revenue: 19.9, currency: "EUR"});
  window.sent = "sent";
});
</script></body></html>"""


def _js(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Site:
    """A static web site on its own 127.0.0.1 port (so its own origin), in a thread."""

    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                found = site.files.get(urlsplit(self.path).path)
                if found is None:
                    self.send_error(404)
                    return
                kind, body = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.files = files
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Shop:
    """A page of the shop in a browser context that reaches only 127.0.0.1."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    console: list[str] = field(default_factory=list)


def sdk(path: Path) -> bytes:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test` (or `make browser-sdks`), which installs"
                    " the browser SDKs from npm into .cache/browser-sdks", pytrace=False)  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:  # noqa: F811
    made = browser.new_context()
    made.set_default_timeout(15_000)
    try:
        yield made
    finally:
        made.close()


def open_shop(context: BrowserContext, url: str) -> Shop:
    page = context.new_page()
    shop = Shop(page)

    def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            shop.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("console", lambda message: shop.console.append(message.text))
    page.on("pageerror", lambda error: shop.console.append(f"page error: {error}"))
    page.on("response", lambda r: shop.calls.append(
        (r.request.method, urlsplit(r.url).path, r.status)))  # fmt: skip
    page.goto(url)
    return shop


def browser_key(server: RunningServer, *origins: str) -> str:
    with server.engine.begin() as conn:
        return auth.create_key(conn, name="web shop", scopes=["track"], origins=list(origins))[1]


def stored(server: RunningServer, want: int, timeout: float = 30.0) -> list[Any]:
    """The events of the customer with user id web-ada, once there are `want` kinds of them
    (an SDK sends each call on its own, in any order, and a loaded machine may be slow)."""
    query = text(
        "SELECT e.kind, e.type, e.channel, e.value, e.currency, e.name, e.customer_id"
        " FROM events e JOIN identities i ON i.customer_id = e.customer_id"
        " WHERE i.kind = 'user_id' AND i.value = 'web-ada' ORDER BY e.occurred_at, e.id"
    )
    deadline = time.monotonic() + timeout
    while True:
        with server.engine.connect() as conn:
            rows = conn.execute(query).all()
        if len({row.kind for row in rows}) >= want or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def check_stored(server: RunningServer, shop: Shop) -> None:
    every = stored(server, 3)
    rows = {r.kind: r for r in every}
    assert sorted((r.kind, r.type) for r in rows.values()) == [
        ("identify", "identify"), ("page", "page"), ("track", "Order Completed")
    ], (every, shop.calls, shop.console, server.log_tail())  # fmt: skip
    assert {r.channel for r in rows.values()} == {"web"}
    assert rows["page"].name == "Home"
    assert (rows["track"].value, rows["track"].currency) == (19.9, "EUR")
    with server.engine.connect() as conn:
        customer = conn.execute(
            text("SELECT c.stage, c.name, c.merged_into_id FROM customers c WHERE c.id = :id"),
            {"id": rows["page"].customer_id},
        ).one()
        kinds = set(conn.execute(text("SELECT kind FROM identities WHERE customer_id = :id"),
                                 {"id": rows["page"].customer_id}).scalars())  # fmt: skip
    assert customer.stage == "customer" and customer.name == "Ada"
    assert kinds == {"anonymous_id", "user_id", "email"}  # the page view is Ada's too


@pytest.mark.parametrize(("sdk_file", "html"), [(SEGMENT_JS, SEGMENT_PAGE), (RUDDER_JS, RUDDER_PAGE)],
                         ids=["analytics.js", "rudderstack"])  # fmt: skip
def test_a_shop_page_sends_its_page_view_identify_and_track(
    server: RunningServer, context: BrowserContext, sdk_file: Path, html: str
) -> None:
    files: dict[str, tuple[str, bytes]] = {"/sdk.js": ("text/javascript", sdk(sdk_file))}
    with Site(files) as site:
        key = browser_key(server, site.origin)
        page = html % {"key": _js(key), "server": _js(server.url)}
        files["/"] = ("text/html", page.encode())
        shop = open_shop(context, site.origin + "/")
        shop.page.wait_for_function("window.sent !== undefined")
        assert shop.page.evaluate("window.sent") == "sent", shop.console
        check_stored(server, shop)
    assert shop.blocked == []  # the SDK asked nothing of any other host
    assert all(status < 400 for _, _, status in shop.calls), shop.calls


def test_a_page_on_an_origin_the_key_does_not_list_is_refused(
    server: RunningServer, context: BrowserContext
) -> None:
    files: dict[str, tuple[str, bytes]] = {"/sdk.js": ("text/javascript", sdk(SEGMENT_JS))}
    with Site({}) as listed, Site(files) as other:
        key = browser_key(server, listed.origin)
        page = SEGMENT_PAGE % {"key": _js(key), "server": _js(server.url)}
        files["/"] = ("text/html", page.encode())
        shop = open_shop(context, other.origin + "/")
        shop.page.wait_for_function("window.sent !== undefined")
        # the SDK's settings are refused, with a reason the page can read
        assert shop.page.evaluate("window.sent").startswith("failed: "), shop.console
        assert ("GET", f"/v1/projects/{key}/settings", 403) in shop.calls
        assert any(other.origin in line and "does not accept" in line for line in shop.console)
        # a call sent straight from the page: preflighted (Authorization), then refused
        basic = base64.b64encode(f"{key}:".encode()).decode()
        answer = shop.page.evaluate(
            """async ([url, basic]) => {
                 const r = await fetch(url + "/v1/t", {method: "POST", body: JSON.stringify(
                   {userId: "web-ada", event: "Order Completed"}),
                   headers: {"Authorization": "Basic " + basic, "Content-Type": "text/plain"}});
                 return [r.status, (await r.json()).message];
               }""",
            [server.url, basic],
        )
        assert answer[0] == 403 and other.origin in answer[1]
        # with the key only in the body it is a simple request (no preflight): still refused
        simple = shop.page.evaluate(
            """async ([url, key]) => {
                 const r = await fetch(url + "/v1/t", {method: "POST", body: JSON.stringify(
                   {writeKey: key, userId: "web-ada", event: "Order Completed"})});
                 return r.status;
               }""",
            [server.url, key],
        )
        assert simple == 401
        beacon = shop.page.evaluate(
            """([url, key]) => navigator.sendBeacon(url + "/v1/t", JSON.stringify(
                 {writeKey: key, userId: "web-ada", event: "Order Completed"}))""",
            [server.url, key],
        )
        assert beacon is True  # queued by the browser; the server refuses it when it arrives
        refused = [("POST", "/v1/t", 403), ("POST", "/v1/t", 401), ("POST", "/v1/t", 401)]
        for _ in range(100):
            if [c for c in shop.calls if c[1] == "/v1/t"] == refused:
                break
            shop.page.wait_for_timeout(100)
        assert [c for c in shop.calls if c[1] == "/v1/t"] == refused, shop.calls
        # the same page on the origin the key lists sends with it
        listed.files.update(files)
        ok = open_shop(context, listed.origin + "/")
        ok.page.wait_for_function("window.sent !== undefined")
        assert ok.page.evaluate("window.sent") == "sent", ok.console
    rows = stored(server, 3)
    assert sorted(r.type for r in rows) == ["Order Completed", "identify", "page"]  # none refused
    assert shop.blocked == [] and ok.blocked == []
