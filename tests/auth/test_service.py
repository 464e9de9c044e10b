"""Keys: the origins a browser key accepts, written as browsers write them; SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.errors import Invalid


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example:443/", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_written_as_browsers_send_them(given: str, origin: str) -> None:
    assert auth.normalise_origin(given) == origin


@pytest.mark.parametrize(
    "given",
    ["shop.example", "ftp://shop.example", "https://shop.example/shop", "https://shop.example?a",
     "https://user@shop.example", "https://", "null", "https://sh op.example", "https://-x.example",
     "http://shop.example:99999", "https://shop.example\x00"],
)  # fmt: skip
def test_what_is_not_an_origin_is_refused_by_name(given: str) -> None:
    with pytest.raises(Invalid, match="is not a web origin") as refused:
        auth.normalise_origin(given)
    assert repr(given)[:20] in refused.value.message


def test_a_browser_key_only_tracks_and_remembers_its_origins(engine: Engine) -> None:
    with engine.begin() as conn:
        info, secret = auth.create_key(conn, name="shop", scopes=["track"],
                                       origins=["https://Shop.Example", "https://shop.example",
                                                "http://localhost:3000"])  # fmt: skip
        assert info.origins == ("https://shop.example", "http://localhost:3000")
        found = auth.check_key(conn, secret)
        with pytest.raises(Invalid, match="may only have the track scope, not read, track"):
            auth.create_key(conn, name="x", scopes=["track", "read"], origins=["https://a.example"])
        _, server = auth.create_key(conn, name="server", scopes=["track"])
        plain = auth.check_key(conn, server)
        listed = {row["name"]: row["origins"] for row in auth.list_keys(conn)}
    assert found is not None and found.origins == info.origins
    assert found.accepts_origin("https://shop.example")
    assert found.accepts_origin("https://SHOP.example:443")  # the same origin, written otherwise
    assert not found.accepts_origin("https://shop.example.evil.example")
    assert not found.accepts_origin("null")
    assert listed == {"shop": ["https://shop.example", "http://localhost:3000"], "server": []}
    assert (
        plain is not None and plain.origins == () and not plain.accepts_origin("https://a.example")
    )
