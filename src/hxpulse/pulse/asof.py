"""The pulse as of a moment: reading `--as-of` / `as_of=`, and when a list may use the key.

One customer's pulse at any accepted moment is exact: it is replayed from their events up to
that moment when later events exist. A list (the most at risk, the bands, the spread) reads the
stored key, which counts every event stored, so it is exact only at or after the latest event
that counts; asked for an earlier moment it is refused with a 400 that says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Connection, Table, func, select

from hxpulse.config import PulseSettings
from hxpulse.errors import Invalid
from hxpulse.events.models import Event

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # the earliest moment accepted
AHEAD = timedelta(days=1)  # the latest: now + 1 day
events_t = cast(Table, Event.__table__)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def parse_as_of(text: str | None, *, now: datetime, field: str = "as_of") -> datetime | None:
    """`text` as a moment: a day (YYYY-MM-DD) means the end of that day, an ISO 8601 moment
    itself (no zone: UTC); from 1970-01-01 to now + 1 day. Blank: None. Errors name `field`."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
            moment += timedelta(days=1)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(field, f"{text[:40]!r} is not a day (YYYY-MM-DD) or an ISO 8601 moment"
                       ) from None  # fmt: skip
    return check_moment(moment, now=now, field=field)


def check_moment(moment: datetime, *, now: datetime, field: str) -> datetime:
    """`moment` in UTC if it is within the accepted range (1970-01-01 to now + 1 day)."""
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise _invalid(field, "is outside the accepted range") from None
    latest = now + AHEAD
    if not EARLIEST <= moment <= latest:
        raise _invalid(field, f"must be from {EARLIEST:%Y-%m-%d} to now + 1 day"
                              f" ({latest.isoformat(timespec='seconds')})")  # fmt: skip
    return moment


def latest_counted(conn: Connection, settings: PulseSettings) -> datetime | None:
    """The time of the latest stored event of a type that counts (one index probe a type)."""
    e = events_t.c
    counted = sorted(name for name, w in settings.weights.items() if w.weight != 0)
    found = [conn.execute(select(func.max(e.occurred_at)).where(e.type == name)).scalar()
             for name in counted]  # fmt: skip
    moments = [cast(datetime, m) for m in found if m is not None]
    return max(moments, default=None)


def list_moment(
    conn: Connection, settings: PulseSettings, *, now: datetime, as_of: datetime | None
) -> datetime:
    """The moment a list from the key is for: `now`, or `as_of` when the key is exact there."""
    if as_of is None or as_of >= now:
        return now if as_of is None else as_of  # every counted event is at or before now
    latest = latest_counted(conn, settings)
    if latest is not None and latest > as_of:
        raise _invalid("as_of", (
            "lists are computed from each customer's stored pulse, which counts every event"
            f" stored, and are exact only from the latest event on ({latest.isoformat()});"
            " one customer's pulse can be asked for any earlier moment"))  # fmt: skip
    return as_of
