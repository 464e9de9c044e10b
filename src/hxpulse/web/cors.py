"""CORS for the paths browsers send tracking calls to, and for nothing else.

A preflight carries no credentials, so it cannot tell which write key the call will use: it is
answered for any origin, with the methods and headers the tracking SDKs send. The origin is
enforced on the call itself, where the key is known (`events.browser.allowed_origin`). Every
answer to a call that carries an Origin header lets that page read it, refusals included, so
that an SDK sees a 403 and drops the call instead of retrying what looks like a network error.
Credentials (cookies) are never allowed: tracking is authorised by the key alone.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "GET, POST, OPTIONS"
# what analytics.js (Authorization, Content-Type: text/plain, X-Retry-Count on a retry) and
# RudderStack's SDK (Authorization, Content-Type: application/json, AnonymousId) send
ALLOW_HEADERS = "Authorization, Content-Type, AnonymousId, X-Retry-Count"
MAX_AGE = "7200"  # seconds; chromium caches a preflight for at most two hours


class TrackingCORS:
    """Answer preflights and add `Access-Control-Allow-Origin` on the paths under `prefixes`."""

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(origin)(scope, receive, send)
            return

        async def send_readable(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = origin
                answer.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_readable)


def _preflight(origin: str) -> Response:
    return Response(status_code=204, headers={
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    })  # fmt: skip


class StreamCORS:
    """Let pages of any origin read the GET streams whose paths match `pattern` (a customer's
    live feed, followed by a shop's website with `EventSource`). The feed's token travels in
    the query, so no credentials are allowed, and a preflight (EventSource's reconnection sends
    `Last-Event-ID`) is answered for GET with that header only."""

    def __init__(self, app: ASGIApp, *, pattern: re.Pattern[str]) -> None:
        self.app = app
        self.pattern = pattern

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.pattern.fullmatch(str(scope["path"])):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await Response(status_code=204, headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET",
                "Access-Control-Allow-Headers": "Last-Event-ID, Cache-Control",
                "Access-Control-Max-Age": MAX_AGE,
                "Vary": "Origin",
            })(scope, receive, send)  # fmt: skip
            return

        async def send_readable(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = origin
                answer.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_readable)
