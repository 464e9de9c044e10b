"""Rate limits for the cheap-to-abuse public paths, kept in this process: token buckets per
write key and per client address for tracking (`/v1/…`), per address for answers posted to
public survey pages (`/s/…`). Over the limit: 429 with `Retry-After`.

In-process on purpose: the tracking path must not pay a database round trip per request, and
each of N server processes allows the configured rate, so the limits are per process (set
them for one process; they are generous by default so that SDK traffic never meets them).
Sign-in throttling, which must hold across processes, is in the database (auth/throttle.py).
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_TRACKED = 100_000  # buckets kept per limit; beyond this, full (idle) ones are dropped


class TokenBucket:
    """`rate` tokens a second up to `burst`, one per request, per name (key or address)."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, name: str) -> float:
        """Take one token for `name`: 0 when allowed, else the seconds until one is back."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(name, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens < 1:
                self._buckets[name] = (tokens, now)
                return (1 - tokens) / self.rate
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_full(now)
            self._buckets[name] = (tokens - 1, now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        rate, burst = self.rate, self.burst
        full = [n for n, (t, at) in self._buckets.items() if t + (now - at) * rate >= burst]
        for name in full or list(self._buckets):
            del self._buckets[name]


def _key_of(scope: Scope) -> str | None:
    """The write key or API key a request carries in its Authorization header, if any."""
    for name, value in scope.get("headers", ()):
        if name != b"authorization":
            continue
        kind, _, credential = value.decode("latin-1").partition(" ")
        if kind.lower() == "bearer":
            return credential.strip() or None
        if kind.lower() == "basic":
            try:
                decoded = base64.b64decode(credential.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return decoded.partition(":")[0] or None
    return None


class RateLimits:
    """ASGI middleware applying the tracking and public-survey limits before anything else."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        track: TokenBucket,
        survey: TokenBucket,
    ) -> None:
        self.app, self.track, self.survey = app, track, survey

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            wait = self._wait(scope)
            if wait > 0:
                await _refuse(scope, send, wait)
                return
        await self.app(scope, receive, send)

    def _wait(self, scope: Scope) -> float:
        path: str = scope["path"]
        if scope["method"] == "OPTIONS":
            return 0.0
        address = scope["client"][0] if scope.get("client") else "unknown"
        if path.startswith("/v1/"):
            key = _key_of(scope)
            by_key = self.track.take(f"key:{key}") if key else 0.0
            return by_key or self.track.take(f"address:{address}")
        if path.startswith("/s/") and scope["method"] == "POST":
            return self.survey.take(address)
        return 0.0


async def _refuse(scope: Scope, send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    if scope["path"].startswith("/s/"):
        body = (
            b"<!doctype html><html lang=en><meta charset=utf-8><title>Please wait</title>"
            b"<p>Too many answers from your network just now. Please try again in a minute."
        )
        kind = b"text/html; charset=utf-8"
    else:
        message = f"Too many requests for this key or address; retry in {seconds} s."
        answer: dict[str, Any] = {"success": False, "code": "too_many_requests", "message": message}
        body, kind = orjson.dumps(answer), b"application/json"
    headers = [(b"content-type", kind), (b"retry-after", str(seconds).encode()),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
