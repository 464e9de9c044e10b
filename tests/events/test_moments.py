"""The accepted range of moments: from 1970-01-01 UTC to a day after receipt, no overflow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from hxpulse.errors import Invalid
from hxpulse.events.moments import (
    Day,
    Moment,
    check_moment,
    parse_day,
    parse_moment,
    to_utc,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Shape(BaseModel):
    at: Moment
    day: Day | None = None


def test_offsets_at_the_ends_of_the_calendar_do_not_overflow() -> None:
    late = datetime.fromisoformat("9999-12-31T23:59:59-14:00")
    early = datetime.fromisoformat("0001-01-01T00:00:00+14:00")
    with pytest.raises(Invalid, match="timestamp: 9999-12-31T23:59:59-14:00 is after year 9999"):
        check_moment(late, "timestamp", NOW)
    with pytest.raises(Invalid, match="0001-01-01T00:00:00\\+14:00 is before 1970-01-01"):
        check_moment(early, "timestamp", NOW)
    with pytest.raises(ValueError):
        to_utc(late)


def test_bounds_are_1970_and_a_day_after_receipt() -> None:
    assert check_moment(datetime(1970, 1, 1, tzinfo=UTC), "t", NOW) == datetime(
        1970, 1, 1, tzinfo=UTC
    )
    assert check_moment(NOW + timedelta(days=1), "t", NOW) == NOW + timedelta(days=1)
    with pytest.raises(
        Invalid, match="^t: 1969-12-31T23:59:59Z is before 1970-01-01, the earliest"
    ):
        check_moment(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), "t", NOW)
    with pytest.raises(Invalid, match="more than a day after it was received"):
        check_moment(NOW + timedelta(days=1, seconds=1), "t", NOW)
    # no zone means UTC; an offset is converted
    assert check_moment(datetime(2026, 1, 1), "t", NOW).tzinfo == UTC
    local = datetime.fromisoformat("1970-01-01T01:00:00+02:00")  # 1969-12-31T23:00Z
    with pytest.raises(Invalid, match="1969-12-31T23:00:00Z is before"):
        check_moment(local, "t", NOW)


def test_the_pydantic_types_name_the_field_and_use_the_context_clock() -> None:
    with pytest.raises(ValidationError) as caught:
        Shape.model_validate({"at": "0001-01-01T00:00:00Z"}, context={"now": NOW})
    error = caught.value.errors()[0]
    assert error["loc"] == ("at",)
    assert error["msg"] == "0001-01-01T00:00:00Z is before 1970-01-01, the earliest moment accepted"
    ok = Shape.model_validate({"at": "2026-03-02T12:00:00Z"}, context={"now": NOW})
    assert ok.at == NOW + timedelta(days=1)
    with pytest.raises(ValidationError, match="more than a day after"):
        Shape.model_validate({"at": "2026-03-02T12:00:01Z"}, context={"now": NOW})
    with pytest.raises(ValidationError, match="after year 9999"):
        Shape.model_validate({"at": "9999-12-31T23:59:59-14:00"})
    with pytest.raises(ValidationError, match="(?s)day.*9999-12-31 is after 2026-03-02"):
        Shape.model_validate({"at": NOW, "day": "9999-12-31"}, context={"now": NOW})


def test_days_and_moments_from_text() -> None:
    assert parse_day("", "since") is None
    assert parse_day("1970-01-01", "since", NOW) == date(1970, 1, 1)
    assert parse_day("2026-03-02", "until", NOW) == date(2026, 3, 2)
    with pytest.raises(Invalid, match="^since: 0001-01-01 is before 1970-01-01") as early:
        parse_day("0001-01-01", "since", NOW)
    assert early.value.errors == [{"field": "since", "message": early.value.message[7:]}]
    with pytest.raises(Invalid, match="^until: 9999-12-31 is after 2026-03-02"):
        parse_day("9999-12-31", "until", NOW)
    with pytest.raises(Invalid, match="is not a date"):
        parse_day("31/12/2025", "until", NOW)
    assert parse_moment("2026-01-01T00:00:00Z", "start", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(Invalid, match="^start: 9999-12-31T23:59:59-14:00 is after year 9999"):
        parse_moment("9999-12-31T23:59:59-14:00", "start", NOW)
