"""Body reading: the depth limit is exact on any JSON, gzip must be one whole member, and no
body is longer than the longest a route reads."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from hxpulse.app import LARGEST_BODY
from hxpulse.auth import service as auth
from hxpulse.errors import Invalid, TooLarge
from hxpulse.web.body import MAX_DEPTH, _gunzip, nests_deeper, parse_json

tricky_text = st.text(alphabet='[]{}"\\ab\u00e9', max_size=8)
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | tricky_text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@given(values, st.integers(min_value=0, max_value=6))
def test_nests_deeper_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 if limit % 2 else 0)
    assert nests_deeper(text, limit) == (depth(value) > limit)


def test_parse_json_refuses_depth_before_anything_recurses() -> None:
    ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert depth(parse_json(ok)) == MAX_DEPTH
    for n in (MAX_DEPTH + 1, 300, 1000, 5000):
        with pytest.raises(Invalid, match=f"body nests deeper than {MAX_DEPTH} levels"):
            parse_json(b"[" * n + b"]" * n)
    with pytest.raises(Invalid, match="not valid JSON"):
        parse_json(b"[" * 70)


def test_gzip_is_one_whole_member_within_the_limit() -> None:
    packed = gzip.compress(b'{"a": 1}')
    assert _gunzip(packed, 100) == b'{"a": 1}'
    with pytest.raises(Invalid, match="ends before the compressed data does"):
        _gunzip(packed[:-4], 100)
    with pytest.raises(Invalid, match="follow the compressed data"):
        _gunzip(packed + gzip.compress(b"more"), 100)
    with pytest.raises(Invalid, match="not valid gzip"):
        _gunzip(b"plain text", 100)
    with pytest.raises(TooLarge):
        _gunzip(gzip.compress(b" " * 1000), 100)


def test_bodies_fastapi_reads_for_a_model_are_bounded(client: TestClient, engine: Engine) -> None:
    """A body past the longest any route reads is refused before it is read, whether its length
    is declared or it comes in chunks; nothing is created."""
    with engine.begin() as conn:
        key = auth.create_key(conn, name="bounded", scopes=["admin"])[1]
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    padding = "a" * (LARGEST_BODY + 1)
    body = f'{{"email": "big@example.com", "role": "agent", "name": "{padding}"}}'.encode()
    declared = client.post("/api/users", content=body, headers=headers)
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    chunked = client.post("/api/users", content=chunks(), headers=headers)
    assert chunked.status_code == 413 and chunked.json()["code"] == "http_error", chunked.text
    listed = client.get("/api/users", headers=headers).json()["items"]
    assert all(user["email"] != "big@example.com" for user in listed)


def test_a_method_not_allowed_says_which_are(client: TestClient) -> None:
    answer = client.patch("/healthz")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
