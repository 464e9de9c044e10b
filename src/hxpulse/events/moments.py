"""The one range of moments HX Pulse accepts, for every way data and filters come in.

A moment is accepted from 1970-01-01T00:00:00Z (`EARLIEST`) to one day after the moment it is
received (`LEAD`); a moment later than receipt but within that day is stored as given and counts
as received now (the pulse uses the earlier of the two). Anything outside is refused with a
message naming the field. Filters (`since`, `until`, `start`, `end`) take the same range, so
`until + 1 day` and the pulse's exponents never leave what a datetime or a float can hold.

Offsets are converted without overflow: `9999-12-31T23:59:59-14:00` is past year 9999 in UTC,
which Python's `astimezone` cannot represent; here it is simply out of range.

`Moment` and `Day` are the Pydantic types for bodies and query parameters; `check_moment`,
`check_day`, `parse_day` and `parse_moment` are the same rule for code that parses by hand. The
clock is the validation context's `now` when given (`model_validate(..., context={"now": t})`),
else the current time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from hxpulse.errors import Invalid

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LEAD = timedelta(days=1)


class OutOfRange(ValueError):
    """A moment outside the accepted range; the message says which bound and why."""


def to_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC (no zone: UTC); raise OutOfRange where UTC has no such date."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        if moment.year < EARLIEST.year:
            raise OutOfRange(_too_early(moment.isoformat())) from None
        raise OutOfRange(
            f"{moment.isoformat()} is after year 9999 in UTC, later than any moment accepted "
            "(at most a day after it is received)"
        ) from None


def latest(now: datetime | None = None) -> datetime:
    """The latest moment accepted when `now` is the moment of receipt."""
    return (now or datetime.now(UTC)) + LEAD


def in_range(moment: datetime, now: datetime | None = None) -> datetime:
    """Return `moment` in UTC if it is accepted, else raise OutOfRange saying why."""
    utc = to_utc(moment)
    if utc < EARLIEST:
        raise OutOfRange(_too_early(_show(utc)))
    last = latest(now)
    if utc > last:
        raise OutOfRange(
            f"{_show(utc)} is more than a day after it was received ({_show(last)} is the "
            "latest moment accepted)"
        )
    return utc


def check_moment(moment: datetime, field: str, now: datetime | None = None) -> datetime:
    """`in_range` for code outside Pydantic: raise Invalid naming `field`."""
    try:
        return in_range(moment, now)
    except OutOfRange as exc:
        raise _invalid(field, str(exc)) from None


def check_day(day: date, field: str, now: datetime | None = None) -> date:
    """Return `day` if its first moment is accepted, else raise Invalid naming `field`."""
    try:
        return day_in_range(day, now)
    except OutOfRange as exc:
        raise _invalid(field, str(exc)) from None


def day_in_range(day: date, now: datetime | None = None) -> date:
    """Return `day` if it lies from 1970-01-01 to the day after `now`, else raise OutOfRange."""
    if day < EARLIEST.date():
        raise OutOfRange(f"{day.isoformat()} is before 1970-01-01, the earliest day accepted")
    last = latest(now).date()
    if day > last:
        raise OutOfRange(
            f"{day.isoformat()} is after {last.isoformat()}, the latest day accepted "
            "(nothing can be dated later)"
        )
    return day


def parse_day(text: str | None, field: str, now: datetime | None = None) -> date | None:
    """A day from `YYYY-MM-DD` text (empty: None), checked against the range."""
    if text is None or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise _invalid(field, f"{text!r} is not a date (YYYY-MM-DD)") from None
    return check_day(day, field, now)


def parse_moment(text: str, field: str, now: datetime | None = None) -> datetime:
    """A moment from ISO 8601 text (no zone: UTC), checked against the range."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(field, f"{text!r} is not an ISO 8601 moment") from None
    return check_moment(parsed, field, now)


def start_of(day: date) -> datetime:
    """The first moment of `day` in UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def _too_early(shown: str) -> str:
    return f"{shown} is before 1970-01-01, the earliest moment accepted"


def _show(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _context_now(info: ValidationInfo) -> datetime | None:
    context: Any = info.context
    now = context.get("now") if isinstance(context, dict) else None
    return now if isinstance(now, datetime) else None


def _moment(value: datetime, info: ValidationInfo) -> datetime:
    try:
        return in_range(value, _context_now(info))
    except OutOfRange as exc:
        raise PydanticCustomError("moment_range", str(exc)) from None


def _utc(value: datetime) -> datetime:
    try:
        return to_utc(value)
    except OutOfRange as exc:
        raise PydanticCustomError("moment_range", str(exc)) from None


def _day(value: date, info: ValidationInfo) -> date:
    try:
        return day_in_range(value, _context_now(info))
    except OutOfRange as exc:
        raise PydanticCustomError("day_range", str(exc)) from None


Moment = Annotated[datetime, AfterValidator(_moment)]
"""A moment in the accepted range, in UTC."""
UtcMoment = Annotated[datetime, AfterValidator(_utc)]
"""Any moment UTC can hold, in UTC: for clock readings that only correct others (sentAt)."""
Day = Annotated[date, AfterValidator(_day)]
"""A day from 1970-01-01 to tomorrow."""
