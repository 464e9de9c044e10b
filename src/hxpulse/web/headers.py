"""Security headers on every answer, set in one place.

- Pages (`text/html`): a Content-Security-Policy that allows scripts, styles, fonts and
  connections from this server only (no inline script or style anywhere in the templates; the
  data the charts draw travels in `<script type="application/json">` blocks, which are not
  run; the one inline style allowed is the empty one Plotly fills, see web/vendor.py),
  `frame-ancestors 'none'`, forms posting only back here. The API description page (`/docs`)
  gets its own policy: Swagger UI is started by one inline script, allowed by its hash, and
  styles parts of itself inline.
- Everything else (JSON, CSV, …): `default-src 'none'; frame-ancestors 'none'`.
- Always: `X-Content-Type-Options: nosniff`, `Referrer-Policy`, `X-Frame-Options: DENY` for
  older browsers; `Cache-Control: no-store` on everything but the static and vendored files
  (pages and API answers carry personal data); `Strict-Transport-Security` when the public URL
  is https.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hxpulse.web.vendor import EMPTY_STYLE

PAGE_POLICY = (
    f"default-src 'self'; script-src 'self'; style-src 'self' '{EMPTY_STYLE}'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
STATIC_PREFIXES = ("/static/", "/vendor/")
HSTS = "max-age=31536000"


def docs_policy(script_hashes: Iterable[str]) -> str:
    """The policy of the API description page, allowing its inline script by hash."""
    allowed = " ".join(f"'sha256-{h}'" for h in script_hashes)
    return (
        f"default-src 'self'; script-src 'self' {allowed}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp, *, https: bool, docs: dict[str, str] | None = None) -> None:
        self.app, self.https, self.docs = app, https, docs or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(path, list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, with_headers)

    def _headers(self, path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        kind = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        if path in self.docs:
            policy = self.docs[path]
        elif kind.startswith(b"text/html"):
            policy = PAGE_POLICY
        else:
            policy = DATA_POLICY
        extra = {
            b"content-security-policy": policy,
            b"x-content-type-options": "nosniff",
            b"x-frame-options": "DENY",
            b"referrer-policy": "same-origin",
        }
        if not path.startswith(STATIC_PREFIXES):
            extra[b"cache-control"] = "no-store"
        if self.https:
            extra[b"strict-transport-security"] = HSTS
        return headers + [(k, v.encode()) for k, v in extra.items() if k not in present]
