"""The driver paths' own formatting: SQLite moments written exactly as SQLAlchemy writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from hxpulse.db.raw import sqlite_timestamp


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))])))  # fmt: skip
def test_sqlite_timestamp_is_utc_with_microseconds(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    assert sqlite_timestamp(moment) == utc.replace(tzinfo=None).isoformat(" ", "microseconds")
