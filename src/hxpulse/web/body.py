"""Read a request body within a size limit, gzip or not, and parse it as JSON."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request
from starlette.requests import ClientDisconnect

from hxpulse.errors import Invalid, TooLarge
from hxpulse.web.text import refuse_nul

MAX_DEPTH = 64  # arrays and objects inside each other, the body itself counted as one
_BRACKETS_ONLY = bytes(set(range(256)) - set(b"[]{}"))


async def read_limited(request: Request, limit: int) -> bytes:
    """Return the raw body, refusing more than `limit` bytes (after decompression)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # nobody is left to answer; not a server error worth a traceback
        raise Invalid("the client went away before the whole body arrived") from None
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding == "gzip":
        return _gunzip(body, limit)
    if encoding not in ("", "identity"):
        raise Invalid(f"Content-Encoding {encoding!r} is not supported: send gzip or plain")
    return body


def _gunzip(body: bytes, limit: int) -> bytes:
    """One complete gzip member, nothing after it, at most `limit` bytes once inflated."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise Invalid(f"body is not valid gzip: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"decompressed body exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise Invalid("body is not valid gzip: it ends before the compressed data does")
    if inflater.unused_data:
        raise Invalid(
            f"body is not valid gzip: {len(inflater.unused_data)} bytes follow the compressed"
            " data (send one gzip member)"
        )
    return data


def nests_deeper(text: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON `text` has arrays and objects more than `limit` levels inside each
    other, found without parsing: strings are cut out (escapes first), then innermost `[]` and
    `{}` pairs removed `limit` times; anything left is deeper (or does not balance)."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    plain = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(plain.split(b'"')[::2]).translate(None, _BRACKETS_ONLY)
    for _ in range(limit):
        if not brackets:
            return False
        # one level a pass: every innermost pair, marked first so none forms a new pair
        brackets = brackets.replace(b"[]", b"-").replace(b"{}", b"-").replace(b"-", b"")
    return bool(brackets)


def parse_json(text: bytes, what: str = "body") -> Any:
    """Parse JSON `text`, refusing nesting deeper than MAX_DEPTH before anything recurses."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):  # orjson's own limit, far above ours
            raise Invalid(f"{what} nests deeper than {MAX_DEPTH} levels") from None
        raise Invalid(f"{what} is not valid JSON: {exc}") from None
    if nests_deeper(text):
        raise Invalid(f"{what} nests deeper than {MAX_DEPTH} levels")
    return value


async def read_json(request: Request, limit: int) -> Any:
    """Return the parsed JSON body, with a message that says where it is malformed."""
    body = await read_limited(request, limit)
    if not body.strip():
        raise Invalid("request body is empty: send a JSON object")
    return parse_json(body)


async def read_object(request: Request, limit: int) -> dict[str, Any]:
    """Return the JSON body, which must be an object holding no NUL character."""
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise Invalid(f"body must be a JSON object, got {type(body).__name__}")
    refuse_nul(body)
    return body
