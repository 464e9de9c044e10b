"""Business-hours maths with hand-computed values: lunch breaks, weekends, holidays, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hxpulse.cases import calendar
from hxpulse.cases.calendar import ALWAYS_OPEN, add, between, calendar_of

LUNCH = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = calendar_of(zone="Europe/Berlin", hours=LUNCH, country="DE", subdivision="BY")
HOUR = 3600


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_24_7_is_plain_time() -> None:
    start = utc(2026, 3, 1, 23, 30)
    assert add(ALWAYS_OPEN, start, 5 * 60) == utc(2026, 3, 1, 23, 35)
    assert between(ALWAYS_OPEN, start, utc(2026, 3, 2, 0, 30)) == HOUR


def test_lunch_is_skipped() -> None:
    # Wednesday 4 Feb 2026, 11:30 in Berlin (CET, UTC+1) = 10:30 UTC; one hour later is
    # 13:30 local: 30 minutes before lunch, 30 after
    start = utc(2026, 2, 4, 10, 30)
    assert add(BERLIN, start, HOUR) == utc(2026, 2, 4, 12, 30)
    assert between(BERLIN, start, utc(2026, 2, 4, 12, 30)) == HOUR


def test_evening_rolls_to_the_next_morning_and_friday_to_monday() -> None:
    # Friday 6 Feb 16:30 local + 1 h: 30 minutes Friday, 30 minutes Monday 9 Feb from 09:00
    start = utc(2026, 2, 6, 15, 30)
    assert add(BERLIN, start, HOUR) == utc(2026, 2, 9, 8, 30)
    assert between(BERLIN, start, utc(2026, 2, 9, 8, 30)) == HOUR
    # outside hours, zero seconds is the next opening
    assert add(BERLIN, utc(2026, 2, 7, 10, 0), 0) == utc(2026, 2, 9, 8, 0)


def test_a_window_ending_exactly_is_due_at_its_end() -> None:
    start = utc(2026, 2, 4, 12, 0)  # 13:00 local
    assert add(BERLIN, start, 4 * HOUR) == utc(2026, 2, 4, 16, 0)  # 17:00 local, not next day


def test_public_holidays_are_closed() -> None:
    # Thursday 24 Dec 2026 16:00 local + 2 h: 1 h on the 24th, then 25 and 26 Dec are
    # holidays (Fri, Sat), the 27th a Sunday: Monday 28 Dec 10:00 local = 09:00 UTC
    start = utc(2026, 12, 24, 15, 0)
    assert add(BERLIN, start, 2 * HOUR) == utc(2026, 12, 28, 9, 0)
    # Epiphany (6 Jan) is a holiday in Bavaria, not in Berlin
    assert calendar.is_closed(BERLIN, datetime(2026, 1, 6).date())
    berlin_state = calendar_of(zone="Europe/Berlin", hours=LUNCH, country="DE", subdivision="BE")
    assert not calendar.is_closed(berlin_state, datetime(2026, 1, 6).date())


def test_extra_closed_dates() -> None:
    shut = calendar_of(zone="UTC", hours=LUNCH, closed=["2026-02-05"])
    # Wed 4 Feb 16:00 + 2 h: 1 h Wednesday, Thursday closed, Friday 09:00-10:00
    assert add(shut, utc(2026, 2, 4, 16, 0), 2 * HOUR) == utc(2026, 2, 6, 10, 0)


def test_spring_forward_keeps_real_hours() -> None:
    # Sunday 29 Mar 2026 the clocks go 02:00 -> 03:00 in Berlin. A 24/7 window on that day is
    # 23 real hours; Monday 30 Mar is CEST (UTC+2): 09:00 local = 07:00 UTC
    every_day = calendar_of(zone="Europe/Berlin", hours={"sun": [["00:00", "24:00"]]})
    day_start, day_end = utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)
    assert between(every_day, day_start, day_end) == 23 * HOUR
    # Friday 27 Mar 16:00 local (15:00 UTC, CET) + 2 h: 1 h Friday, then Monday 10:00 CEST
    assert add(BERLIN, utc(2026, 3, 27, 15, 0), 2 * HOUR) == utc(2026, 3, 30, 8, 0)


def test_fall_back_keeps_real_hours() -> None:
    every_day = calendar_of(zone="Europe/Berlin", hours={"sun": [["00:00", "24:00"]]})
    # Sunday 25 Oct 2026: 25 real hours (CEST midnight = 22:00 UTC Sat, CET midnight = 23:00 UTC)
    assert between(every_day, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0)) == 25 * HOUR


@pytest.mark.parametrize("seconds", [0, 1, 59, 3 * HOUR, 7 * HOUR, 7 * HOUR + 1, 40 * HOUR])
def test_add_and_between_agree(seconds: int) -> None:
    for start in (utc(2026, 2, 4, 7, 59), utc(2026, 2, 4, 10, 30), utc(2026, 2, 7, 12, 0),
                  utc(2026, 3, 27, 15, 0), utc(2026, 12, 23, 15, 0)):  # fmt: skip
        due = add(BERLIN, start, seconds)
        assert between(BERLIN, start, due) == seconds
        if seconds:
            assert between(BERLIN, start, due - timedelta(seconds=1)) == seconds - 1


def test_parse_and_format_hours() -> None:
    hours = calendar.parse_hours("mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00")
    assert hours["wed"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert hours["sat"] == [["10:00", "14:00"]] and "sun" not in hours
    assert calendar.format_hours({"mon": [["09:00", "17:00"]]}) == "mon 09:00-17:00"
    assert calendar.format_hours(hours) == "mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"zone": "Mars/Base"}, "zone"), ({"hours": {"mon": [["17:00", "09:00"]]}}, "hours.mon"),
     ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "hours.mon"),
     ({"hours": {"monday": [["09:00", "12:00"]]}}, "hours"), ({"hours": {"mon": [["9", "12"]]}},
     "hours.mon"), ({"country": "XX"}, "holiday_country"), ({"closed": ["tomorrow"]}, "closed")],
)  # fmt: skip
def test_bad_calendars_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}:"):
        calendar_of(**kwargs)  # type: ignore[arg-type]
