"""The Segment message shape as the browser SDKs send it (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from hxpulse.events import segment
from hxpulse.events.schemas import EventIn

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def event(kind: str, **fields: object) -> EventIn:
    msg = segment.SegmentMessage.model_validate(fields)
    return segment.to_event(msg, kind=kind, received_at=NOW, sent_at=None)


def test_an_empty_user_id_is_no_user_id() -> None:
    # RudderStack's JavaScript SDK sends "" until identify
    found = event("page", userId="", anonymousId="anon-1", name="Home")
    assert found.identities == [("anonymous_id", "anon-1")]


def test_identify_traits_in_the_context_count_as_traits() -> None:
    # RudderStack's JavaScript SDK puts an identify's traits in context.traits
    found = event("identify", userId="u1", context={"traits": {"email": "Ada@Example.com",
                                                              "name": "Ada"}})  # fmt: skip
    assert ("email", "ada@example.com") in found.identities
    assert found.traits == {"email": "Ada@Example.com", "name": "Ada"}
    assert found.properties == {"email": "Ada@Example.com", "name": "Ada"}
    given = event("identify", userId="u1", traits={"name": "Bo"}, context={"traits": {"x": 1}})
    assert given.traits == {"name": "Bo"}  # Segment's own traits win
