"""Business hours, as pure maths: add business seconds to a moment, count them between two.

A `Calendar` is a time zone (IANA, via zoneinfo), windows per weekday in local wall time
(several a day: 09:00–12:00 and 13:00–17:00 around lunch), public holidays of a country (and
subdivision) from the `holidays` package, and extra closed dates. A calendar without any window
is open around the clock (24/7). A business second is a real second inside an open window: on
the day the clocks change a 09:00–17:00 window still lasts eight hours, and a window that starts
in the hour skipped in spring starts when the clock reads the next valid time. No database here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # a due time further than ten years away means a calendar that is never open
Window = tuple[int, int]  # minutes after local midnight, [start, end), end up to 24:00
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


@dataclass(frozen=True, slots=True)
class Calendar:
    """When a team works. `windows[d]` are weekday d's windows (0 = Monday), sorted."""

    zone: str = "UTC"
    windows: tuple[tuple[Window, ...], ...] = ((),) * 7
    country: str | None = None
    subdivision: str | None = None
    closed: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not any(self.windows)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


ALWAYS_OPEN = Calendar()


def _minutes(text: str, where: str) -> int:
    found = _CLOCK.match(text.strip())
    if found is None:
        raise ValueError(f"{where}: {text!r} is not a time of day HH:MM (00:00 to 24:00)")
    return 1440 if text.strip() == "24:00" else int(found.group(1)) * 60 + int(found.group(2))


def _windows(day: str, spans: Sequence[Sequence[str]]) -> tuple[Window, ...]:
    out: list[Window] = []
    for span in spans:
        if len(span) != 2:
            raise ValueError(f"hours.{day}: each window is [start, end], got {list(span)!r}")
        start, end = _minutes(span[0], f"hours.{day}"), _minutes(span[1], f"hours.{day}")
        if start >= end:
            raise ValueError(f"hours.{day}: window {span[0]}-{span[1]} ends before it starts")
        out.append((start, end))
    out.sort()
    for (_, end), (start, _) in zip(out, out[1:], strict=False):
        if start < end:
            raise ValueError(f"hours.{day}: windows overlap")
    return tuple(out)


def calendar_of(
    *,
    zone: str = "UTC",
    hours: Mapping[str, Sequence[Sequence[str]]] | None = None,
    country: str | None = None,
    subdivision: str | None = None,
    closed: Iterable[str | date] = (),
) -> Calendar:
    """A checked calendar; a ValueError names the bad field (`zone`, `hours.mon`, …)."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"zone: {zone!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    hours = hours or {}
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"hours: unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})")
    windows = tuple(_windows(d, hours.get(d, ())) for d in WEEKDAYS)
    if country:
        try:
            _holidays(country, subdivision or None, 2026)
        except NotImplementedError:
            where = f"{country}/{subdivision}" if subdivision else country
            raise ValueError(f"holiday_country: no public holidays known for {where!r}") from None
    days: set[date] = set()
    for value in closed:
        try:
            days.add(value if isinstance(value, date) else date.fromisoformat(value))
        except ValueError:
            raise ValueError(f"closed: {value!r} is not a date YYYY-MM-DD") from None
    return Calendar(zone, windows, country or None, subdivision or None, frozenset(days))


def parse_hours(text: str) -> dict[str, list[list[str]]]:
    """Read `mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00` as the `hours` of a team."""
    hours: dict[str, list[list[str]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days, *spans = part.split()
        first, _, last = days.lower().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"hours: {days!r} is not a weekday or range (mon-fri)")
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if b < a:
            raise ValueError(f"hours: {days!r} runs backwards")
        windows = []
        for span in spans:
            start, sep, end = span.partition("-")
            if not sep:
                raise ValueError(f"hours: {span!r} is not a window HH:MM-HH:MM")
            windows.append([start, end])
        for day in WEEKDAYS[a : b + 1]:
            hours[day] = windows
    _ = calendar_of(hours=hours)  # check the windows
    return hours


def format_hours(hours: Mapping[str, Sequence[Sequence[str]]]) -> str:
    """The `parse_hours` text of `hours`, runs of days alike as ranges; empty: 24/7."""
    parts: list[tuple[int, int, str]] = []
    for n, day in enumerate(WEEKDAYS):
        spans = " ".join(f"{a}-{b}" for a, b in hours.get(day, ()))
        if spans and parts and parts[-1][1] == n - 1 and parts[-1][2] == spans:
            parts[-1] = (parts[-1][0], n, spans)
        elif spans:
            parts.append((n, n, spans))
    return "; ".join((WEEKDAYS[a] if a == b else f"{WEEKDAYS[a]}-{WEEKDAYS[b]}") + f" {spans}"
                     for a, b, spans in parts)  # fmt: skip


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def is_closed(calendar: Calendar, day: date) -> bool:
    """Whether `day` (local) is a public holiday or an extra closed date."""
    if day in calendar.closed:
        return True
    return bool(calendar.country) and day in _holidays(
        str(calendar.country), calendar.subdivision, day.year
    )


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def open_spans(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The open windows of local `day`, as UTC moments (none on holidays and closed dates)."""
    if is_closed(calendar, day):
        return []
    tz = calendar.tz
    return [(_at(day, a, tz), _at(day, b, tz)) for a, b in calendar.windows[day.weekday()]]


def add(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` business seconds after `start` (0 from outside hours: the next
    opening). Exact to the microsecond: a due time computed here is the breach moment."""
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    start = start.astimezone(UTC)
    if calendar.always_open:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=seconds)
    day = start.astimezone(calendar.tz).date()
    for _ in range(MAX_DAYS):
        for a, b in open_spans(calendar, day):
            if b <= start:
                continue
            a = max(a, start)
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
        day += timedelta(days=1)
    raise ValueError("the calendar has no business hours within ten years")


def between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Business seconds from `start` to `end` (0 when `end` is not later)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    if calendar.always_open:
        return (end - start).total_seconds()
    tz = calendar.tz
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    total = timedelta()
    while day <= last:
        for a, b in open_spans(calendar, day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds()
