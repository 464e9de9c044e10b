"""`customers.last_seen_at`, the latest `occurred_at` of each customer's own events: kept by the
ingest (late, early and unweighted events, imports), by merges, filled by migration 0020, and
read in index order by the list's last-activity sort; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select, text

from hxpulse.config import Settings
from hxpulse.customers import listing, queries
from hxpulse.customers.service import customers_t, events_t
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.events.importer import import_events
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

NOW = datetime.now(UTC).replace(microsecond=0)


def seen(mid: str, hours: float, *keys: tuple[str, str], type_: str = "purchase") -> EventIn:
    """An event `hours` before NOW (negative: after it) naming `keys`."""
    return EventIn(message_id=mid, kind="track", type=type_, identities=list(keys),
                   occurred_at=NOW - timedelta(hours=hours))  # fmt: skip


def stored(engine: Engine) -> dict[int, datetime | None]:
    """Every customer row's last_seen_at, after checking it is its events' latest moment."""
    c, e = customers_t.c, events_t.c
    latest = select(func.max(e.occurred_at)).where(e.customer_id == c.id).scalar_subquery()
    with engine.connect() as conn:
        rows = conn.execute(select(c.id, c.last_seen_at, latest).order_by(c.id)).all()
    assert [(cid, kept) for cid, kept, _ in rows] == [(cid, want) for cid, _, want in rows]
    return {cid: kept for cid, kept, _ in rows}


def add_unseen(conn: Connection, at: datetime, customer_id: int | None = None) -> None:
    """A customer row without events, as the ingest never makes one (loaded by hand; only
    columns every revision has)."""
    row = {"traits": {}, "preferences": {}, "consent": {}, "created_at": at, "updated_at": at}
    conn.execute(customers_t.insert().values(row if customer_id is None else
                                             {**row, "id": customer_id}))  # fmt: skip


def find(engine: Engine, ref: str) -> int:
    with engine.connect() as conn:
        return queries.find(conn, ref)


ANN, BO = ("email", "ann@example.com"), ("email", "bo@example.com")


def test_the_ingest_keeps_the_latest_moment_whatever_the_order(engine: Engine) -> None:
    ingest(engine, [seen("a1", 5, ANN), seen("a2", 9, ANN), seen("b1", 30, BO)], now=NOW)
    ann, bo = find(engine, "ann@example.com"), find(engine, "bo@example.com")
    assert stored(engine) == {ann: NOW - timedelta(hours=5), bo: NOW - timedelta(hours=30)}
    ingest(engine, [seen("a3", 48, ANN)], now=NOW)  # late: an older moment changes nothing
    # an identify (no weight: no pulse term) and a moment ahead of receipt, within the day
    ingest(engine, [seen("b2", 2, BO, type_="identify"), seen("a4", -12, ANN)], now=NOW)
    assert stored(engine) == {ann: NOW + timedelta(hours=12), bo: NOW - timedelta(hours=2)}
    ingest(engine, [seen("b2", 1, BO), seen("a1", 0, ANN)], now=NOW)  # resent: nothing twice
    assert stored(engine)[bo] == NOW - timedelta(hours=2)


def test_imports_keep_it_too(engine: Engine, tmp_path: Path) -> None:
    rows = [("purchase", 3, "ann@example.com"), ("page_view", 1, "ann@example.com"),
            ("purchase", 7, "ann@example.com"), ("unknown_thing", 50, "bo@example.com")]  # fmt: skip
    path = tmp_path / "events.csv"
    path.write_text("type,occurred_at,email\n" + "".join(
        f"{kind},{(NOW - timedelta(days=days)).isoformat()},{email}\n"
        for kind, days, email in rows))  # fmt: skip
    summary = import_events(engine, path, batch_size=2)
    assert (summary.stored, summary.rejected) == (4, 0)
    kept = stored(engine)
    assert kept[find(engine, "ann@example.com")] == NOW - timedelta(days=1)
    assert kept[find(engine, "bo@example.com")] == NOW - timedelta(days=50)


def test_a_merge_gives_the_survivor_the_later_moment(engine: Engine) -> None:
    ingest(engine, [seen("a1", 40, ANN), seen("b1", 4, BO)], now=NOW)
    ann, bo = find(engine, "ann@example.com"), find(engine, "bo@example.com")
    with engine.connect() as conn:
        before = listing.search(conn, listing.ListQuery(sort="last_activity"))
    assert [i["id"] for i in before["items"]] == [ann, bo]
    # one event naming both: a merge; its own moment is older than both
    ingest(engine, [seen("m1", 60, ANN, BO, type_="identify")], now=NOW)
    survivor = find(engine, "bo@example.com")
    assert find(engine, "ann@example.com") == survivor
    (merged,) = {ann, bo} - {survivor}
    assert stored(engine) == {survivor: NOW - timedelta(hours=4), merged: None}
    with engine.connect() as conn:
        after = listing.search(conn, listing.ListQuery(sort="-last_activity"))
    assert [(i["id"], i["last_seen_at"], i["event_count"]) for i in after["items"]] == [
        (survivor, NOW - timedelta(hours=4), 3)
    ]


@pytest.fixture
def before_0020(settings: Settings) -> Iterator[tuple[Engine, list[int]]]:
    """A database at revision 0019 with three customers: one with events, one merged into it
    (its events moved), one without events (a row the ingest never makes: loaded by hand)."""
    built = make_engine(settings)
    upgrade(built, "0019")
    ingest(built, [seen("a1", 30, ANN), seen("a2", 3, ANN), seen("b1", 1, BO)], now=NOW,
           live=None)  # fmt: skip
    with built.begin() as conn:
        ids = dict(conn.execute(text("SELECT value, customer_id FROM identities")).all())
        ann, bo = ids["ann@example.com"], ids["bo@example.com"]
        for table in ("events", "identities"):
            conn.execute(text(f"UPDATE {table} SET customer_id = :s WHERE customer_id = :m"),
                         {"s": ann, "m": bo})  # fmt: skip
        conn.execute(text("UPDATE customers SET merged_into_id = :s WHERE id = :m"),
                     {"s": ann, "m": bo})  # fmt: skip
        unseen = max(ann, bo) + 1
        add_unseen(conn, NOW, unseen)
    yield built, [ann, bo, unseen]
    built.dispose()


def test_migration_0020_fills_every_row_from_its_events(
    before_0020: tuple[Engine, list[int]],
) -> None:
    built, (ann, bo, unseen) = before_0020
    upgrade(built)
    # the merged row and the one without events: null
    assert stored(built) == {ann: NOW - timedelta(hours=1), bo: None, unseen: None}
    with built.connect() as conn:
        for sort in ("last_activity", "-last_activity"):
            found = listing.search(conn, listing.ListQuery(sort=sort))
            assert [i["id"] for i in found["items"]] == [ann, unseen], sort


def test_both_sorts_read_the_index_in_order(engine: Engine) -> None:
    """The statements the last-activity pages run need no sort of the customers: SQLite and
    PostgreSQL read `ix_customers_last_seen_at_id` (or the primary key) in order."""
    ingest(engine, [seen("a1", 5, ANN), seen("b1", 3, BO)], now=NOW)
    with engine.connect() as conn:
        add_unseen(conn, NOW)
        for sort in ("-last_activity", "last_activity"):
            for page in (1, 2, 3):
                plans = _plans(conn, listing.ListQuery(sort=sort, per_page=1, page=page))
                assert plans, (sort, page)
                for plan in plans:  # a sort step: SQLite's temporary b-tree, PostgreSQL's Sort
                    assert "TEMP B-TREE" not in plan and "Sort" not in plan, (sort, page, plan)
                assert any("ix_customers_last_seen_at_id" in plan for plan in plans), sort


def _plans(conn: Connection, query: listing.ListQuery) -> list[str]:
    """The plan of each ordered SELECT `listing.search(query)` runs (on PostgreSQL with scans
    of the whole table and sorts priced out: the table is tiny, and the question is whether
    an index can give the order)."""
    ran: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if "ORDER BY customers." in sql:  # the page's rows, not its identities
            ran.append((sql, params))

    event.listen(conn, "before_cursor_execute", note)
    try:
        listing.search(conn, query)
    finally:
        event.remove(conn, "before_cursor_execute", note)
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        for plan in ("seqscan", "bitmapscan", "sort"):  # still chosen when nothing else works
            conn.exec_driver_sql(f"SET LOCAL enable_{plan} = off")
    plans = []
    for sql, params in ran:
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        rows = conn.exec_driver_sql(explain + sql, params).all()
        plans.append("\n".join(str(r[-1]) for r in rows))
    return plans
