"""Body reading: the depth limit is exact on any JSON, gzip must be one whole member."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
