"""Publishing and reading feed messages, and customers' feed tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid
from hxpulse.feeds import actions
from hxpulse.feeds import service as feeds
from hxpulse.privacy import links as preference_links
from hxpulse.web.signed import LinkError
from tests.feeds.helpers import NOW

SECRET = "s" * 40


def _publish(engine: Engine, key: str, **kw: object) -> int:
    return run_write(engine, lambda conn: feeds.publish(conn, key=key, now=NOW, **kw))  # type: ignore[arg-type]


def test_a_key_publishes_once(engine: Engine) -> None:
    first = _publish(engine, "k1", scope="customer", customer_id=5, type="notification",
                     data={"title": "Hi"})  # fmt: skip
    again = _publish(engine, "k1", scope="customer", customer_id=5, type="notification",
                     data={"title": "Other"})  # fmt: skip
    assert first == again
    with engine.connect() as conn:
        found = feeds.since(conn, scope="customer", customer_id=5, after=0)
        assert [(m["id"], m["data"]) for m in found] == [(first, {"title": "Hi"})]
        assert feeds.latest_id(conn) == first


def test_each_feed_reads_only_its_own_after_an_id(engine: Engine) -> None:
    a = _publish(engine, "a", scope="customer", customer_id=5, type="n", data={})
    _publish(engine, "b", scope="customer", customer_id=6, type="n", data={})
    everyone = _publish(engine, "c", scope="team", type="case.opened", data={"id": 1})
    support = _publish(engine, "d", scope="team", team="support", type="case.opened", data={})
    b2 = _publish(engine, "e", scope="customer", customer_id=5, type="n", data={})
    with engine.connect() as conn:
        mine = feeds.since(conn, scope="customer", customer_id=5, after=0)
        assert [m["id"] for m in mine] == [a, b2]
        assert [m["id"] for m in feeds.since(conn, scope="customer", customer_id=5, after=a)] == [
            b2
        ]
        assert [m["id"] for m in feeds.since(conn, scope="team", after=0)] == [everyone]
        both = feeds.since(conn, scope="team", teams=["support"], after=0)
        assert [m["id"] for m in both] == [everyone, support]
        assert [
            m["id"] for m in feeds.since(conn, scope="team", after=0, limit=1, teams=["support"])
        ] == [everyone]
        assert [m["id"] for m in feeds.recent(conn, teams=["support"])] == [support, everyone]
        assert feeds.teams_for(conn, actor_kind="user", actor_id=1) == []  # until cases wires it


def test_bad_messages_are_refused_naming_the_field(engine: Engine) -> None:
    with pytest.raises(Invalid, match="scope"):
        _publish(engine, "x", scope="nope", type="n", data={})
    with pytest.raises(Invalid, match="customer_id"):
        _publish(engine, "y", scope="customer", type="n", data={})
    with pytest.raises(Invalid, match="type"):
        _publish(engine, "z", scope="team", type="a\nb", data={})


def test_a_token_is_for_one_customer_until_it_expires() -> None:
    issued = feeds.token_for(SECRET, 42, now=NOW, ttl=timedelta(minutes=15))
    assert issued.expires_at == NOW + timedelta(minutes=15)
    checked = feeds.check(SECRET, issued.token, now=NOW + timedelta(minutes=14, seconds=59))
    assert checked.customer_id == 42 and checked.expires_at == issued.expires_at
    with pytest.raises(LinkError) as expired:
        feeds.check(SECRET, issued.token, now=NOW + timedelta(minutes=15))
    assert expired.value.problem == "expired"


FORGED = {
    "nonsense": lambda: "nonsense",
    "empty": lambda: "",
    "too long": lambda: "x" * 500,
    "another secret": lambda: (
        feeds.token_for("another secret, just as long as o", 42, now=NOW).token
    ),
    "a preference link": lambda: preference_links.token_for(SECRET, 42),  # another salt
}


@pytest.mark.parametrize("made", list(FORGED))
def test_a_forged_token_is_refused(made: str) -> None:
    with pytest.raises(LinkError) as forged:
        feeds.check(SECRET, FORGED[made](), now=NOW)
    assert forged.value.problem == "forged"


@pytest.mark.parametrize(("preferences", "chosen"), [
    ({}, ("feed", "email")), ({"notify_by": "feed"}, ("feed",)),
    ({"notify_by": "email"}, ("email",)), ({"channel": "Email"}, ("email",)),
    ({"notify_by": ["feed", "email"]}, ("feed", "email")), ({"notify_by": "both"}, ("feed", "email")),
    ({"notify_by": "pigeon"}, ("feed", "email")),
])  # fmt: skip
def test_the_channels_a_customer_prefers(
    preferences: dict[str, object], chosen: tuple[str, ...]
) -> None:
    assert actions.channels(preferences) == chosen


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one writer
def test_messages_become_visible_in_id_order(engine: Engine) -> None:
    """A publisher waits for the one before it to commit (PostgreSQL: an advisory lock), so a
    reader that saw id N never later finds a smaller id committed behind it."""
    done: list[int] = []
    with engine.connect() as first:
        tx = first.begin()
        early = feeds.publish(first, key="early", scope="team", type="n", data={}, now=NOW)
        later = threading.Thread(target=lambda: done.append(_publish(engine, "later", scope="team",
                                                                     type="n", data={})))  # fmt: skip
        later.start()
        later.join(0.5)
        assert done == []  # waiting for the first publisher's commit
        with engine.connect() as reader:
            assert feeds.since(reader, scope="team", after=0) == []
        tx.commit()
    later.join(10)
    assert done and done[0] > early
