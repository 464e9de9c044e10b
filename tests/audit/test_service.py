"""The audit log: entries written and read back, filtered and paged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from hxpulse.audit import service as audit
from tests.conftest import T0


def test_entries_are_recorded_and_filtered(engine: Engine) -> None:
    ana = audit.Who("user", 1, "user 1 (ana@example.com)", "127.0.0.1")
    shop = audit.Who("key", 7, "key 7 (shop)")
    with engine.begin() as conn:
        first = audit.record(conn, who=ana, action="customer.view", now=T0,
                             subject_kind="customer", subject_id=42)  # fmt: skip
        audit.record(conn, who=shop, action="customer.export", now=T0 + timedelta(minutes=1),
                     subject_kind="customer", subject_id=42, detail={"events": 3})  # fmt: skip
        audit.record(conn, who=audit.SYSTEM, action="key.revoke", now=T0 + timedelta(minutes=2),
                     subject_kind="key", subject_id=7)  # fmt: skip
    with engine.connect() as conn:
        newest = audit.entries(conn)
        assert [e["action"] for e in newest] == ["key.revoke", "customer.export", "customer.view"]
        assert newest[1]["detail"] == {"events": 3} and newest[1]["at"] == T0 + timedelta(minutes=1)
        about = audit.entries(conn, subject_kind="customer", subject_id=42)
        assert [e["actor_label"] for e in about] == ["key 7 (shop)", "user 1 (ana@example.com)"]
        assert [e["id"] for e in audit.entries(conn, action="customer.")] == [first + 1, first]
        assert audit.entries(conn, actor_kind="user")[0]["address"] == "127.0.0.1"
        assert len(audit.entries(conn, since=T0 + timedelta(minutes=1))) == 2
        assert [e["id"] for e in audit.entries(conn, before_id=first + 1)] == [first]
        assert audit.entries(conn, action="customer_") == []
