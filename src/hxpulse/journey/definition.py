"""The definition of the journey: one customer's stages replayed from their events.

A customer's stage at a moment is the highest stage (in `[journey] stages` order) whose
conditions all hold over the events up to that moment (and, for a `satisfied` stage, with no
unresolved negative experience and a last NPS answer that is not a detractor's). Stages are
evaluated at the moments of the customer's *stage-relevant* events (types named in a condition,
NPS and detractor types, negative and resolving types of `[pulse] weights`, and the aliases of
all of them in `[pulse] aliases`), plus the customer's first event, which is their entry into
the journey.

`stage_timeline` replays one customer's events in time order and is the definition. The same
loop can start from `Counters`, what a replay knows at its last moment (the plain counters'
values, the latest times of the windowed ones, the NPS flag): the live path (`journey.live`)
stores them per customer and continues from them when a batch's events come after that moment.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

import orjson

from hxpulse.config import JourneySettings, PulseSettings


class StageEvent(NamedTuple):
    """The columns of an event that the journey reads."""

    message_id: str
    type: str
    occurred_at: datetime
    channel: str | None = None
    department: str | None = None


class Transition(NamedTuple):
    """A change of stage: when, from what (None: entry into the journey), to what, and the
    event that caused it."""

    at: datetime
    from_stage: str | None
    to_stage: str
    message_id: str | None
    channel: str | None = None
    department: str | None = None


class Timeline(NamedTuple):
    """The result of a replay: every transition, and the stage and NPS state at the end."""

    transitions: list[Transition]
    stage: str
    stage_at: datetime | None
    detractor: bool


@dataclass(slots=True)
class Counters:
    """What a replay knows at its latest evaluated moment `until`, enough to go on with events
    after it: each plain counter's value, each windowed counter's latest times (those that can
    still count after `until`, at most as many as its largest `min_count` asks for), and
    whether the last NPS answer was a detractor's."""

    until: datetime
    plain: list[int]
    seen: list[list[datetime]]
    detractor: bool


@dataclass(frozen=True, slots=True)
class Rules:
    """`[journey] stages` compiled for the replay loop.

    Conditions that count the same event types over the same window share a counter: plain
    counters (no window) are numbers, windowed ones the times they counted. Each stage above
    the first is a list of checks (counter, at least), highest stage first.
    """

    names: tuple[str, ...]
    plain: int  # counters 0 .. plain-1 have no window
    windows: tuple[timedelta, ...]  # of counters plain, plain+1, ...
    caps: tuple[int, ...]  # of counters plain, ...: the largest min_count checked on each
    descending: tuple[tuple[int, tuple[tuple[int, int], ...], bool], ...]
    by_type: dict[str, tuple[int, ...]]  # event type -> counters it adds to
    nps: frozenset[str]
    detractors: frozenset[str]
    index: dict[str, int]  # stage name -> its place
    signature: str  # of what stored Counters mean: counters, their types, windows and caps

    @classmethod
    def of(cls, journey: JourneySettings, pulse: PulseSettings | None = None) -> Rules:
        """Compile `journey`; with `pulse`, a condition on a type also counts its aliases."""
        names = pulse.names_of if pulse is not None else sorted
        keys: dict[tuple[frozenset[str], float | None], int] = {}
        for rule in journey.stages:
            for condition in rule.when:
                key = (frozenset(condition.events), condition.within_days)
                keys[key] = max(keys.get(key, 0), condition.min_count)
        ordered = sorted(keys, key=lambda key: key[1] is not None)  # plain counters first
        counter = {key: n for n, key in enumerate(ordered)}
        plain = sum(1 for _, days in ordered if days is None)
        by_type: dict[str, list[int]] = {}
        for (types, _), n in counter.items():
            for event_type in names(types):
                by_type.setdefault(event_type, []).append(n)
        stages = []
        for index, rule in enumerate(journey.stages):
            checks = tuple((counter[(frozenset(c.events), c.within_days)], c.min_count)
                           for c in rule.when)  # fmt: skip
            stages.append((index, checks, rule.satisfied))
        nps, detractors = frozenset(names(journey.nps_events)), frozenset(
            names(journey.detractor_events))  # fmt: skip
        meaning = repr(([(sorted(names(types)), days, keys[(types, days)] if days else 0)
                         for types, days in ordered], sorted(nps), sorted(detractors)))  # fmt: skip
        return cls(
            names=tuple(journey.stage_names), plain=plain,
            windows=tuple(timedelta(days=days) for _, days in ordered if days is not None),
            caps=tuple(keys[key] for key in ordered if key[1] is not None),
            descending=tuple(reversed(stages[1:])),
            by_type={t: tuple(ids) for t, ids in by_type.items()}, nps=nps,
            detractors=detractors,
            index={name: n for n, name in enumerate(journey.stage_names)},
            signature=hashlib.sha1(meaning.encode(), usedforsecurity=False).hexdigest()[:12],
        )  # fmt: skip


_RULES: dict[int, tuple[JourneySettings, Rules]] = {}


def rules_of(journey: JourneySettings) -> Rules:
    """The compiled rules of `journey` (kept while the settings object lives)."""
    found = _RULES.get(id(journey))
    if found is not None and found[0] is journey:
        return found[1]
    if len(_RULES) > 64:
        _RULES.clear()
    compiled = Rules.of(journey)
    _RULES[id(journey)] = (journey, compiled)
    return compiled


def stage_timeline(
    journey: JourneySettings | Rules,
    events: Iterable[StageEvent],
    negatives: Iterable[tuple[datetime, datetime | None]] = (),
    *,
    since: datetime | None = None,
    stage_before: str | None = None,
) -> Timeline:
    """Replay one customer's `events` (any order) and return every change of stage.

    The stage is evaluated once per distinct event time, after all events of that time; a
    change is caused by the last of them (by message id). The first event is the entry
    (from None). `within_days` windows are (t − days, t] at each evaluation time t. Satisfied
    at t: no negative with occurred_at ≤ t < resolved_at (None: still open), and the last NPS
    event at or before t not a detractor's. Pass the customer's stage-relevant events and their
    first event: other events would add evaluation moments the live path does not have.

    With `since` and `stage_before` (the stage just before `since`, known from stored state),
    moments before `since` are only counted, not evaluated, and only the changes from `since`
    on are returned (the same as those of the whole replay); `stage_at` is then None when
    nothing changed.
    """
    rules = journey if isinstance(journey, Rules) else rules_of(journey)
    current = rules.index.get(stage_before, -1) if stage_before is not None else -1
    return replay(rules, sorted(events, key=BY_TIME), list(negatives),
                  since if current >= 0 else None, current)[0]  # fmt: skip


def replay(
    rules: Rules,
    ordered: Sequence[Moment],
    spans: list[tuple[datetime, datetime | None]],
    since: datetime | None,
    current: int,
    start: Counters | None = None,
) -> tuple[Timeline, Counters | None]:
    """`stage_timeline` on events in time order, from stage `current` (-1: none) at `since`;
    also the counters at the end (None: no events at all).

    With `start`, the replay goes on from those counters with `ordered`, which must all be
    later than `start.until` (the counters then stand for every earlier event): the same
    transitions and end as replaying every event from the first.
    """
    if not ordered:
        named = rules.names[max(current, 0)]
        return Timeline([], named, None, start.detractor if start else False), start
    plain, windows = rules.plain, rules.windows
    if start is None:
        counts = [0] * (plain + len(windows))  # at the moment evaluated (windowed: refreshed)
        seen: list[list[datetime]] = [[] for _ in windows]
        detractor = False
    else:
        counts = start.plain + [0] * len(windows)
        seen = [list(times) for times in start.seen]
        detractor = start.detractor
    by_type, nps, names, descending = rules.by_type, rules.nps, rules.names, rules.descending
    detractors = rules.detractors
    refresh = list(enumerate(seen, plain))
    transitions: list[Transition] = []
    i, count = 0, len(ordered)
    while i < count:
        event = ordered[i]
        moment = event.occurred_at
        while True:
            kind = event.type
            for k in by_type.get(kind, ()):
                if k < plain:
                    counts[k] += 1
                else:
                    seen[k - plain].append(moment)
            if kind in nps:
                detractor = kind in detractors
            i += 1
            if i == count or ordered[i].occurred_at != moment:
                break
            event = ordered[i]
        if since is not None and moment < since:
            continue  # only counted: the stage before `since` is given
        for k, times in refresh:
            counts[k] = len(times) - bisect.bisect_right(times, moment - windows[k - plain])
        stage = 0
        satisfied: bool | None = None
        for index, checks, needs_satisfied in descending:
            for k, least in checks:
                if counts[k] < least:
                    break
            else:
                if needs_satisfied:
                    if satisfied is None:
                        satisfied = not detractor and not any(
                            opened <= moment and (closed is None or closed > moment)
                            for opened, closed in spans
                        )
                    if not satisfied:
                        continue
                stage = index
                break
        if stage != current:
            transitions.append(Transition(moment, names[current] if current >= 0 else None,
                                          names[stage], event.message_id, event.channel,
                                          event.department))  # fmt: skip
            current = stage
    until = ordered[-1].occurred_at
    if windows:
        for w, times in enumerate(seen):  # drop the times that can no longer count
            first = bisect.bisect_right(times, until - windows[w])
            if first or len(times) > rules.caps[w]:
                seen[w] = times[max(first, len(times) - rules.caps[w]) :]
    del counts[plain:]
    return Timeline(transitions, names[current], transitions[-1].at if transitions else None,
                    detractor), Counters(until, counts, seen, detractor)  # fmt: skip


class Moment(Protocol):
    """What the replay reads of an event: a `StageEvent`, or an ingested `EventIn`."""

    @property
    def message_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def department(self) -> str | None: ...


BY_TIME = attrgetter("occurred_at", "message_id")


def encode(rules: Rules, counters: Counters) -> str:
    """`counters` as stored (`customers.journey_counters`), marked with the rules' signature."""
    return orjson.dumps([rules.signature, counters.until, counters.plain, counters.seen,
                         counters.detractor]).decode()  # fmt: skip


_fromisoformat = datetime.fromisoformat


def decode(rules: Rules, stored: str | None) -> Counters | None:
    """The stored counters, or None when there are none or they were kept under other rules
    (then the customer is replayed in full once)."""
    if not stored:
        return None
    try:
        found: Any = orjson.loads(stored)
        signature, until, plain, seen, detractor = found
        if signature != rules.signature or len(seen) != len(rules.windows):
            return None
        times = [[_fromisoformat(t) for t in ts] for ts in seen]
        return Counters(_fromisoformat(until), plain, times, bool(detractor))
    except (ValueError, TypeError):
        return None
