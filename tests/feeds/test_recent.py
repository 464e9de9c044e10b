"""The messages a process holds for its streams: read once per interval, picked per stream,
and the database read again by a stream further behind (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from hxpulse.db.engine import run_write
from hxpulse.feeds import service as feeds
from hxpulse.feeds.recent import Recent
from tests.feeds.helpers import NOW


def _publish(engine: Engine, key: str, customer_id: int) -> int:
    return run_write(engine, lambda conn: feeds.publish(
        conn, key=key, scope="customer", customer_id=customer_id, type="n", data={}, now=NOW))  # fmt: skip


def _of(customer_id: int) -> Callable[[dict[str, Any]], bool]:
    return lambda row: feeds.matches(row, scope="customer", customer_id=customer_id)


def test_each_stream_picks_its_own_from_one_read(engine: Engine) -> None:
    before = _publish(engine, "old", 1)
    recent = Recent(engine, max_age=0, size=3)
    start = recent.position()
    assert start == before
    mine = [_publish(engine, f"m{n}", 1) for n in range(2)]
    theirs = _publish(engine, "t", 2)
    held = recent.after(start, _of(1), limit=10)
    assert held is not None
    rows, position = held
    assert [r["id"] for r in rows] == mine and position == theirs  # past the others' message
    assert recent.after(theirs, _of(1), limit=10) == ([], theirs)
    limited = recent.after(start, _of(1), limit=1)
    assert (
        limited is not None and [r["id"] for r in limited[0]] == mine[:1] and limited[1] == mine[0]
    )
    for n in range(3):  # the held ones move on: the oldest are no longer held
        _publish(engine, f"later{n}", 2)
    assert recent.after(start, _of(1), limit=10) is None  # read the database for that one


def test_a_stale_read_waits_for_its_interval(engine: Engine) -> None:
    recent = Recent(engine, max_age=3600)
    start = recent.position()
    _publish(engine, "new", 1)
    assert recent.after(start, _of(1), limit=10) == ([], start)  # not read again yet
