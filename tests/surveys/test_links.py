"""Survey links: signed with the server's secret and a salt of their own, expiring, and never
valid for anything else."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from itsdangerous import URLSafeTimedSerializer

from hxpulse.surveys import links

SECRET = "s" * 40


def test_a_link_reads_back_its_invitation() -> None:
    token = links.token_for(SECRET, 42)
    assert links.read(SECRET, token, max_age_seconds=3600) == 42
    assert (
        links.url_for("https://cx.example.com/", SECRET, 42) == f"https://cx.example.com/s/{token}"
    )


FORGED = {
    "junk": lambda: "not-a-token",
    "empty": lambda: "",
    "another server's link": lambda: links.token_for("another secret that is long enough!!", 42),
    "same key, other use": lambda: URLSafeTimedSerializer(SECRET, salt="cookie-session").dumps(42),
    "not an id": lambda: URLSafeTimedSerializer(SECRET, salt=links.SALT).dumps("42; DROP TABLE"),
    "a boolean": lambda: URLSafeTimedSerializer(SECRET, salt=links.SALT).dumps(True),
}


# tokens are made in the test, not at collection: their timestamps would make the test ids
# differ between the pytest-xdist workers
@pytest.mark.parametrize("kind", list(FORGED))
def test_forged_tokens_are_refused(kind: str) -> None:
    token = FORGED[kind]()
    with pytest.raises(links.LinkError) as caught:
        links.read(SECRET, token, max_age_seconds=3600)
    assert caught.value.problem == "forged"


def test_a_tampered_token_is_forged() -> None:
    token = links.token_for(SECRET, 42)
    # the first character carries 6 whole bits of the payload (the last one of the
    # signature has spare bits, so changing it may decode to the same bytes)
    changed = ("A" if token[0] != "A" else "B") + token[1:]
    with pytest.raises(links.LinkError) as caught:
        links.read(SECRET, changed, max_age_seconds=3600)
    assert caught.value.problem == "forged"


def test_an_old_link_has_expired() -> None:
    with mock.patch("time.time", return_value=time.time() - 15 * 86400):
        token = links.token_for(SECRET, 7)
    with pytest.raises(links.LinkError) as caught:
        links.read(SECRET, token, max_age_seconds=14 * 86400)
    assert caught.value.problem == "expired"
    assert links.read(SECRET, token, max_age_seconds=16 * 86400) == 7
