"""Read a request body within a size limit, gzip or not, and parse it as JSON."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request

from hxpulse.errors import Invalid, TooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    """Return the raw body, refusing more than `limit` bytes (after decompression)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding == "gzip":
        return _gunzip(body, limit)
    if encoding not in ("", "identity"):
        raise Invalid(f"Content-Encoding {encoding!r} is not supported: send gzip or plain")
    return body


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise Invalid(f"body is not valid gzip: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"decompressed body exceeds the limit of {limit} bytes")
    return data


async def read_json(request: Request, limit: int) -> Any:
    """Return the parsed JSON body, with a message that says where it is malformed."""
    body = await read_limited(request, limit)
    if not body.strip():
        raise Invalid("request body is empty: send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"body is not valid JSON: {exc}") from None


async def read_object(request: Request, limit: int) -> dict[str, Any]:
    """Return the JSON body, which must be an object."""
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise Invalid(f"body must be a JSON object, got {type(body).__name__}")
    return body
