"""The key's log-add in SQL against its definition `analytics.pulse.key_add`, on both databases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from hxpulse.analytics.pulse import key_add, key_from_log
from hxpulse.config import Live
from hxpulse.customers import queries
from hxpulse.db import raw
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import keys, live, service
from hxpulse.pulse.keys import KEY_ADD, key_add_sql, pg_key_add, register_key_add, sqlite_has_math

EDGES = [0.0, -0.0, 1e-300, -1e-300, 1e-3, -2.5, 19.999, 20.0, 20.001, -20.0, 21.0, 40.0, 709.0,
         -710.0, 14_177.6, -14_177.6, key_from_log(1.0, 30.0), key_from_log(-1.0, 30.0)]  # fmt: skip
any_key = st.one_of(st.sampled_from(EDGES), st.floats(-25, 25), st.floats(-15_000, 15_000))


def sql_key_add(engine: Engine, pairs: list[tuple[float, float]]) -> list[float]:
    """`key_add` of each pair in SQL: on SQLite both with its math functions and with the
    registered function (which an SQLite without them uses), checked to agree."""
    with engine.connect() as conn:
        driver = raw.driver(conn)
        if conn.dialect.name != "sqlite":
            with driver.cursor() as cursor:
                sql = f"SELECT {pg_key_add('v.a', 'v.b')} FROM (SELECT %s::float8 AS a, %s::float8 AS b) v"
                return [cursor.execute(sql, p).fetchone()[0] for p in pairs]
        register_key_add(driver)
        found = [driver.execute(f"SELECT {KEY_ADD}(?, ?)", p).fetchone()[0] for p in pairs]
        if sqlite_has_math():
            sql = f"SELECT {key_add_sql('?1', '?2', greatest='max')}"
            native = [driver.execute(sql, p).fetchone()[0] for p in pairs]
            for (a, b), got in zip(pairs, native, strict=True):
                assert agrees(got, a, b), (a, b, got, key_add(a, b))
        return found


def agrees(got: float, a: float, b: float) -> bool:
    want = key_add(a, b)
    # to 1e-12 of the larger key (its own precision), or exactly where the sums cancel
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12 * max(abs(a), abs(b), 1e-300))


def test_edge_cases_agree_with_the_definition(engine: Engine) -> None:
    pairs = [(a, b) for a in EDGES for b in EDGES]
    pairs += [(k, -k) for k in EDGES] + [(40.0, -40.0 + 1e-13), (14_000.0, -13_999.9999999)]
    for (a, b), got in zip(pairs, sql_key_add(engine, pairs), strict=True):
        assert agrees(got, a, b), (a, b, got, key_add(a, b))
    assert sql_key_add(engine, [(21.0, -21.0), (3.0, -3.0)]) == [0.0, 0.0]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(any_key, any_key), min_size=1, max_size=20))
def test_random_keys_agree_with_the_definition(
    engine: Engine, pairs: list[tuple[float, float]]
) -> None:
    for (a, b), got in zip(pairs, sql_key_add(engine, pairs), strict=True):
        assert agrees(got, a, b), (a, b, got, key_add(a, b))


@pytest.mark.parametrize("a", [1e-300, 5e-324])
def test_tiny_keys_stay_tiny(engine: Engine, a: float) -> None:
    assert sql_key_add(engine, [(a, a)]) == [pytest.approx(2 * a, rel=1e-9, abs=1e-323)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's own case
def test_an_sqlite_without_math_functions_adds_with_the_registered_function(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert engine.dialect.name == "sqlite"
    monkeypatch.setattr(keys, "sqlite_has_math", lambda: False)
    monkeypatch.setattr(live, "sqlite_has_math", lambda: False)
    live._sqlite_updates.cache_clear()
    try:
        assert KEY_ADD in live._sqlite_updates()[0]
        now = datetime(2026, 6, 1, tzinfo=UTC)
        for n in range(3):  # three batches: the stored key is log-added to twice
            ingest(engine, [EventIn(message_id=f"m{n}", kind="track", type="review",
                                    identities=[("user_id", "u")],
                                    occurred_at=now - timedelta(days=10 * n))], now=now)  # fmt: skip
    finally:
        live._sqlite_updates.cache_clear()
    with engine.connect() as conn:
        got = service.explain(conn, Live(), customer_id=queries.find(conn, "u"), now=now)
    assert got["pulse"] == pytest.approx(6 * (1 + 0.5 ** (10 / 90) + 0.5 ** (20 / 90)), rel=1e-12)
