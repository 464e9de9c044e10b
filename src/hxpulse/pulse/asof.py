"""The pulse as of a moment: reading `--as-of` / `as_of=`, and when a list may use the key.

One customer's pulse at any accepted moment is exact: it is replayed from their events up to
that moment when later events exist. A list (the most at risk, the bands, the spread) reads the
stored key, which counts every event stored, so it is exact only at or after the latest event
that counts; asked for an earlier moment it is refused with a 400 that says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, func, select

from hxpulse.config import PulseSettings
from hxpulse.errors import Invalid
from hxpulse.events import moments
from hxpulse.events.models import Event

EARLIEST = moments.EARLIEST  # the earliest moment accepted (the one range: events.moments)
events_t = cast(Table, Event.__table__)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def parse_as_of(text: str | None, *, now: datetime, field: str = "as_of") -> datetime | None:
    """`text` as a moment: a day (YYYY-MM-DD) means the end of that day, an ISO 8601 moment
    itself (no zone: UTC); within the accepted range (`events.moments`). Blank: None. Errors
    name `field`."""
    if text is None or not text.strip():
        return None
    if len(text.strip()) == 10:
        day = moments.parse_day(text, field, now)
        assert day is not None
        return check_moment(moments.start_of(day) + timedelta(days=1), now=now, field=field)
    return moments.parse_moment(text, field, now)


def check_moment(moment: datetime, *, now: datetime, field: str) -> datetime:
    """`moment` in UTC if it is within the accepted range, else Invalid naming `field`."""
    return moments.check_moment(moment, field, now)


def latest_counted(conn: Connection, settings: PulseSettings) -> datetime | None:
    """The time of the latest stored event of a type that counts (one index probe a type)."""
    e = events_t.c
    counted = settings.names_of(name for name, w in settings.weights.items() if w.weight != 0)
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
