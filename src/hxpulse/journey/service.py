"""The journey: each customer's stage, every change of stage with its cause, and the funnel.

A customer's stage at a moment is the highest stage (in `[journey] stages` order) whose
conditions all hold over the events up to that moment (and, for a `satisfied` stage, with no
unresolved negative experience and a last NPS answer that is not a detractor's). Stages are
evaluated at the moments of the customer's *stage-relevant* events (types named in a condition,
NPS and detractor types, negative and resolving types of `[pulse] weights`, and the aliases of
all of them in `[pulse] aliases`), plus the customer's first event, which is their entry into
the journey.

`stage_timeline` replays one customer's events in time order and is the definition; the live
path (`update`, in the ingest transaction) and `rebuild` both write what it returns, so late
events and rebuilds agree with the live state.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, case, delete, func, select
from sqlalchemy.sql import ColumnElement

from hxpulse.config import JourneySettings, Live, PulseSettings
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.errors import Invalid, NotFound
from hxpulse.events import moments
from hxpulse.events.models import CHANNELS
from hxpulse.events.schemas import EventIn
from hxpulse.journey import overlays
from hxpulse.journey.models import StageChange
from hxpulse.pulse.models import PulseNegative

stage_changes_t = cast(Table, StageChange.__table__)
negatives_t = cast(Table, PulseNegative.__table__)
STAGE_COLUMNS = ("customer_id", "from_stage", "to_stage", "changed_at", "message_id", "channel",
                 "department")  # fmt: skip
REBUILD_CHUNK = 2_000
_ANCHOR = "\x00entry"  # type of a stand-in for a stored entry: relevant to no condition


# --------------------------------------------------------------------------------------------
# The definition: one customer's stages replayed from their events


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
    descending: tuple[tuple[int, tuple[tuple[int, int], ...], bool], ...]
    by_type: dict[str, tuple[int, ...]]  # event type -> counters it adds to
    nps: frozenset[str]
    detractors: frozenset[str]
    index: dict[str, int]  # stage name -> its place

    @classmethod
    def of(cls, journey: JourneySettings, pulse: PulseSettings | None = None) -> Rules:
        """Compile `journey`; with `pulse`, a condition on a type also counts its aliases."""
        names = pulse.names_of if pulse is not None else sorted
        keys: dict[tuple[frozenset[str], float | None], int] = {}
        for rule in journey.stages:
            for condition in rule.when:
                keys.setdefault((frozenset(condition.events), condition.within_days), 0)
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
        return cls(
            names=tuple(journey.stage_names), plain=plain,
            windows=tuple(timedelta(days=days) for _, days in ordered if days is not None),
            descending=tuple(reversed(stages[1:])),
            by_type={t: tuple(ids) for t, ids in by_type.items()},
            nps=frozenset(names(journey.nps_events)),
            detractors=frozenset(names(journey.detractor_events)),
            index={name: n for n, name in enumerate(journey.stage_names)},
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
    return _timeline(rules, sorted(events, key=_BY_TIME), list(negatives),
                     since if current >= 0 else None, current)  # fmt: skip


def _timeline(
    rules: Rules,
    ordered: list[StageEvent],
    spans: list[tuple[datetime, datetime | None]],
    since: datetime | None,
    current: int,
) -> Timeline:
    """`stage_timeline` on events in time order, from stage `current` (-1: none) at `since`."""
    if not ordered:
        return Timeline([], rules.names[max(current, 0)], None, False)
    plain, windows = rules.plain, rules.windows
    counts = [0] * (plain + len(windows))  # at the moment evaluated (windowed: refreshed)
    seen: list[list[datetime]] = [[] for _ in windows]
    by_type, nps, names, descending = rules.by_type, rules.nps, rules.names, rules.descending
    detractor = False
    transitions: list[Transition] = []
    i, count = 0, len(ordered)
    while i < count:
        event = ordered[i]
        moment = event.occurred_at
        while True:
            for k in by_type.get(event.type, ()):
                if k < plain:
                    counts[k] += 1
                else:
                    seen[k - plain].append(moment)
            if event.type in nps:
                detractor = event.type in rules.detractors
            i += 1
            if i == count or ordered[i].occurred_at != moment:
                break
            event = ordered[i]
        if since is not None and moment < since:
            continue  # only counted: the stage before `since` is given
        for w, times in enumerate(seen):
            counts[plain + w] = len(times) - bisect.bisect_right(times, moment - windows[w])
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
                            start <= moment and (end is None or end > moment)
                            for start, end in spans
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
    stage_at = transitions[-1].at if transitions else None
    return Timeline(transitions, names[current], stage_at, detractor)


_BY_TIME = attrgetter("occurred_at", "message_id")


# --------------------------------------------------------------------------------------------
# The live path: re-evaluate, in the ingest transaction, the customers a batch can move


@dataclass(frozen=True, slots=True)
class Plan:
    """What the live path needs from `Live`, computed once per settings object."""

    rules: Rules
    relevant: frozenset[str]  # event types that can change a stage
    negative: frozenset[str]  # event types that open a negative experience
    relevant_sql: str  # `relevant` as an SQL list of literals


_PLANS: dict[int, tuple[Live, Plan]] = {}


def plan_of(live: Live) -> Plan:
    found = _PLANS.get(id(live))
    if found is not None and found[0] is live:
        return found[1]
    if len(_PLANS) > 64:
        _PLANS.clear()
    rules = Rules.of(live.journey, live.pulse)  # the types named and their aliases
    weights, names = live.pulse.weights, live.pulse.names_of
    negative = frozenset(names(t for t, w in weights.items() if w.negative))
    relevant = frozenset(
        set(rules.by_type) | rules.nps | rules.detractors | negative
        | set(names(t for t, w in weights.items() if w.resolves))
    )  # fmt: skip
    literals = ", ".join(_literal(t) for t in sorted(relevant)) or "''"
    plan = Plan(rules, relevant, negative, literals)
    _PLANS[id(live)] = (live, plan)
    return plan


def relevant_types(live: Live) -> frozenset[str]:
    """The event types that can change a customer's stage under these settings."""
    return plan_of(live).relevant


def _literal(value: str) -> str:
    # an SQL string literal, also safe inside str.format (raw.select_in formats the statement)
    return "'" + value.replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


@dataclass(slots=True)
class _Work:
    """One customer to replay: from when its stored transitions are replaced (None: all)."""

    since: datetime | None
    anchor: StageEvent | None = None  # its first event, when not among the loaded ones
    events: list[StageEvent] = field(default_factory=list)
    negatives: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    stored_until: datetime | None = None  # time of its latest stored transition
    nps_touched: bool = False
    stage_before: str | None = None  # its stored stage, when that is the stage before `since`
    detractor: bool | None = None  # its stored detractor flag, when known


def update(
    conn: Connection,
    live: Live,
    events: Sequence[EventIn],
    owners: Sequence[int],
    *,
    created: Sequence[int] = (),
    merged: Sequence[int] = (),
    now: datetime | None = None,
) -> list[tuple[int, Timeline]]:
    """Re-evaluate the stages the batch `events` (owned by `owners`) can change.

    Writes the transitions and returns the customers whose stage, stage_at or NPS flag must
    be set: the caller writes those together with the pulse sums, in one update of each row
    (`pulse.live.apply`).

    Inside the ingest transaction, after the events and the pulse's negative experiences are
    stored. Replayed: new customers (from the batch alone), merge survivors (from scratch),
    customers with a stage-relevant event in the batch (from that event's time on) and
    customers with a batch event earlier than their stored entry (the entry moves). Stages
    live on event time, so `now` is not used.
    """
    plan = plan_of(live)
    relevant, nps = plan.relevant, plan.rules.nps
    fresh = set(created)
    since: dict[int, datetime] = {}  # existing customers: their earliest relevant batch event
    touched: set[int] = set()  # existing customers with an NPS answer in the batch
    new_events: dict[int, list[EventIn]] = {}  # new customers: all their batch events
    for event, cid in zip(events, owners, strict=True):
        if cid in fresh:
            new_events.setdefault(cid, []).append(event)
        elif event.type in relevant:
            moment = since.get(cid)
            if moment is None or event.occurred_at < moment:
                since[cid] = event.occurred_at
            if event.type in nps:
                touched.add(cid)
    work: dict[int, _Work] = {}
    full = set(merged)
    read = _moment_reader(conn)
    slow: list[int] = []  # a batch event earlier than their latest change: need the entry
    for cid, stage, stage_at, flag in _stored_stages(
        conn, sorted(c for c in since if c not in full)
    ):
        if stage_at is None or stage not in plan.rules.names:
            full.add(cid)  # nothing stored yet (older data), or a stage no longer configured
        elif (latest := read(stage_at)) < since[cid]:  # in order: replay from the stored stage
            work[cid] = _Work(since[cid], stored_until=latest, nps_touched=cid in touched,
                              stage_before=stage, detractor=bool(flag))  # fmt: skip
        else:
            slow.append(cid)
    entries: dict[int, tuple[datetime, datetime]] = {}
    for cid, earliest, latest in _stored_span(conn, slow):
        entries[cid] = (read(earliest), read(latest))
    full.update(cid for cid in slow if cid not in entries)
    first = _late_firsts(conn, events, owners, fresh | full, entries, read)
    for cid, (entry, latest) in entries.items():
        batch_first = first.get(cid)
        if batch_first is not None and batch_first.occurred_at < entry:
            # a late event before the entry: the entry moves to it
            job = _Work(batch_first.occurred_at, _stage_event(batch_first))
        elif cid in since:
            job = _Work(since[cid], StageEvent("", _ANCHOR, entry))
        else:
            continue
        job.stored_until, job.nps_touched = latest, cid in touched
        work[cid] = job
    if full:
        for cid in full:
            work[cid] = _Work(None)
        for cid, anchor in _first_events(conn, sorted(full)).items():
            work[cid].anchor = anchor
    if work:
        _load_events(conn, plan, work)
    fresh_negative = [cid for cid, found in new_events.items()
                      if any(e.type in plan.negative for e in found)]  # fmt: skip
    negatives = _load_negatives(conn, sorted([*work, *fresh_negative]))
    for cid, spans in negatives.items():
        if cid in work:
            work[cid].negatives = spans
    results = [(cid, job, _replay(plan, job)) for cid, job in work.items()]
    first_stage = plan.rules.names[0]
    for cid, mine in new_events.items():
        start = min(mine, key=_in_time)
        picked = [_stage_event(e) for e in mine if e.type in relevant]
        if not picked:  # the common case: only an entry into the first stage
            opening = Transition(start.occurred_at, None, first_stage, start.message_id,
                               start.channel, start.department)  # fmt: skip
            timeline = Timeline([opening], first_stage, start.occurred_at, False)
        else:
            if start.type not in relevant:
                picked.append(_stage_event(start))
            timeline = stage_timeline(plan.rules, picked, negatives.get(cid, ()))
        results.append((cid, _FROM_SCRATCH, timeline))
    return _write(conn, results, fresh)


_FROM_SCRATCH = _Work(None)  # shared by new customers: only read


def _in_time(event: EventIn) -> tuple[datetime, str]:
    return event.occurred_at, event.message_id


def _late_firsts(
    conn: Connection,
    events: Sequence[EventIn],
    owners: Sequence[int],
    skip: set[int],
    entries: dict[int, tuple[datetime, datetime]],
    read: Callable[[Any], datetime],
) -> dict[int, EventIn]:
    """The first batch event of each existing customer whose stored entry is later than it.

    Cheap when events arrive in time order: if no batch event is earlier than the latest
    stored transition (one index lookup), no entry can move.
    """
    earliest = min((e.occurred_at for e in events), default=None)
    latest = conn.execute(select(func.max(stage_changes_t.c.changed_at))).scalar()
    if earliest is None or latest is None or earliest >= latest:
        return {}
    first: dict[int, EventIn] = {}
    for event, cid in zip(events, owners, strict=True):
        if cid in skip:
            continue
        known = first.get(cid)
        if known is None or _in_time(event) < _in_time(known):
            first[cid] = event
    others = [cid for cid in first if cid not in entries]
    for cid, earliest_entry, last in _entries_after(conn, others, first):
        entries[cid] = (read(earliest_entry), read(last))
    return {
        cid: e for cid, e in first.items() if cid in entries and e.occurred_at < entries[cid][0]
    }


def _replay(plan: Plan, job: _Work) -> Timeline:
    """Replay one customer; the anchor (first event) only when it is not loaded already."""
    events = job.events
    rules = plan.rules
    if job.stage_before is not None:
        current = rules.index.get(job.stage_before, -1)
        if current >= 0:
            events.sort(key=_BY_TIME)
            return _timeline(rules, events, job.negatives, job.since, current)
    if job.anchor is not None and job.anchor.type not in plan.relevant:
        events = [*events, job.anchor]
    return _timeline(rules, sorted(events, key=_BY_TIME), job.negatives, None, -1)


def _stage_event(event: EventIn) -> StageEvent:
    return StageEvent(event.message_id, event.type, event.occurred_at, event.channel,
                      event.department)  # fmt: skip


def _moment_reader(conn: Connection) -> Callable[[Any], datetime]:
    """How this driver's timestamps become aware UTC datetimes (SQLite: stored text)."""
    if conn.dialect.name == "sqlite":
        return _from_sqlite
    return _to_utc


def _from_sqlite(value: Any) -> datetime:
    return _fromisoformat(value + "+00:00")  # 8x faster than .replace(tzinfo=UTC)


_fromisoformat = datetime.fromisoformat


def _to_utc(value: Any) -> datetime:
    moment = cast(datetime, value)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def _stored_stages(conn: Connection, customer_ids: list[int]) -> list[tuple[Any, ...]]:
    """(customer, stage, stage_at, detractor): the stored stage and its latest change."""
    sql = "SELECT id, stage, stage_at, detractor FROM customers WHERE id {in}"
    if conn.dialect.name != "sqlite":
        # lock them (in id order, like every customer lock) so that a concurrent batch for the
        # same customer waits for this one and then replays on top of it; event inserts are
        # not blocked (they take key-share locks)
        sql += " ORDER BY id FOR NO KEY UPDATE"
    return raw.select_in(conn, sql, customer_ids)


def _stored_span(conn: Connection, customer_ids: list[int]) -> list[tuple[Any, ...]]:
    """(customer, first and last transition time) for those with transitions: index-only."""
    sql = ("SELECT customer_id, MIN(changed_at), MAX(changed_at) FROM stage_changes"
           " WHERE customer_id {in} GROUP BY customer_id")  # fmt: skip
    return raw.select_in(conn, sql, customer_ids)


def _entries_after(
    conn: Connection, customer_ids: list[int], first: dict[int, EventIn]
) -> list[tuple[Any, ...]]:
    """Of `customer_ids`, those whose stored entry is later than the earliest of their batch
    events (the SQL keeps only entries later than the batch's earliest such event)."""
    if not customer_ids:
        return []
    earliest = min(first[cid].occurred_at for cid in customer_ids)
    bound = raw.sqlite_timestamp(earliest) if conn.dialect.name == "sqlite" else (
        earliest.isoformat())  # fmt: skip
    kind = "" if conn.dialect.name == "sqlite" else "::timestamptz"
    sql = ("SELECT customer_id, MIN(changed_at), MAX(changed_at) FROM stage_changes"
           " WHERE customer_id {in} GROUP BY customer_id"
           f" HAVING MIN(changed_at) > '{bound}'{kind}")  # fmt: skip
    return raw.select_in(conn, sql, sorted(customer_ids))


def _first_events(conn: Connection, customer_ids: Sequence[int]) -> dict[int, StageEvent]:
    """Each customer's first event (by time, then message id)."""
    sql = (
        "SELECT customer_id, message_id, type, occurred_at, channel, department FROM ("
        "SELECT customer_id, message_id, type, occurred_at, channel, department, ROW_NUMBER()"
        " OVER (PARTITION BY customer_id ORDER BY occurred_at, message_id) AS n"
        " FROM events WHERE customer_id {in}) AS firsts WHERE n = 1"
    )
    read = _moment_reader(conn)
    return {
        row[0]: StageEvent(row[1], row[2], read(row[3]), row[4], row[5])
        for row in raw.select_in(conn, sql, list(customer_ids))
    }


def _load_events(conn: Connection, plan: Plan, work: dict[int, _Work]) -> None:
    """Every stage-relevant event of the customers in `work` (the (customer, time) index)."""
    sqlite = conn.dialect.name == "sqlite"
    hint = " INDEXED BY ix_events_customer_occurred" if sqlite else ""
    moment = "occurred_at || '+00:00'" if sqlite else "occurred_at"  # parsed 8x faster
    sql = (f"SELECT customer_id, message_id, type, {moment}, channel, department FROM events"
           f"{hint} WHERE customer_id {{in}} AND type IN ({plan.relevant_sql})")  # fmt: skip
    read = _fromisoformat if sqlite else _to_utc
    for cid, mid, kind, occurred, channel, department in raw.select_in(conn, sql, sorted(work)):
        work[cid].events.append(StageEvent(mid, kind, read(occurred), channel, department))


def _load_negatives(
    conn: Connection, customer_ids: list[int]
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    if not customer_ids:
        return {}
    sql = "SELECT customer_id, occurred_at, resolved_at FROM pulse_negatives WHERE customer_id {in}"
    read = _moment_reader(conn)
    found: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for cid, occurred, resolved in raw.select_in(conn, sql, customer_ids):
        span = (read(occurred), read(resolved) if resolved is not None else None)
        found.setdefault(cid, []).append(span)
    return found


_FIRST = itemgetter(0)
_SET_STAGE = (
    "UPDATE customers SET stage = ?, stage_at = COALESCE(?, stage_at), detractor = ? WHERE id = ?"
)
_SET_STAGE_PG = (
    "UPDATE customers AS c SET stage = d.s, stage_at = COALESCE(d.t, c.stage_at), detractor = d.n"
    " FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::bool[]) AS d(id, s, t, n)"
    " WHERE c.id = d.id"
)
_DROP_SINCE = "DELETE FROM stage_changes WHERE customer_id = ? AND changed_at >= ?"
_DROP_SINCE_PG = (
    "DELETE FROM stage_changes AS s USING unnest(%s::bigint[], %s::timestamptz[]) AS d(id, t)"
    " WHERE s.customer_id = d.id AND s.changed_at >= d.t"
)


def _write(
    conn: Connection, results: list[tuple[int, _Work, Timeline]], fresh: set[int]
) -> list[tuple[int, Timeline]]:
    """Replace the replayed transitions; return the stages to set; few statements."""
    ts = raw.timestamp_writer(conn)
    drop_all: list[int] = []
    drop_since: list[tuple[int, datetime]] = []
    rows: list[tuple[Any, ...]] = []
    states: list[tuple[int, Timeline]] = []
    results.sort(key=_FIRST)
    for cid, job, timeline in results:
        added = [t for t in timeline.transitions if job.since is None or t.at >= job.since]
        if job.since is None:
            if cid not in fresh:
                drop_all.append(cid)
        elif job.stored_until is not None and job.stored_until >= job.since:
            drop_since.append((cid, job.since))
        elif not added and (not job.nps_touched or job.detractor is timeline.detractor):
            continue  # nothing stored or replayed from `since` on: stage and NPS unchanged
        rows.extend((cid, t.from_stage, t.to_stage, ts(t.at), t.message_id, t.channel,
                     t.department) for t in added)  # fmt: skip
        states.append((cid, timeline))
    sqlite = conn.dialect.name == "sqlite"
    if drop_all:
        s = stage_changes_t.c
        for start in range(0, len(drop_all), raw.SQLITE_MAX_IN):
            part = drop_all[start : start + raw.SQLITE_MAX_IN]
            conn.execute(delete(stage_changes_t).where(s.customer_id.in_(part)))
    if drop_since:
        if sqlite:
            raw.driver(conn).executemany(_DROP_SINCE, [(c, ts(t)) for c, t in drop_since])
        else:
            with raw.driver(conn).cursor() as cursor:
                ids, times = [c for c, _ in drop_since], [t for _, t in drop_since]
                cursor.execute(_DROP_SINCE_PG, (raw.pg_array(ids), raw.pg_array(times)))
    raw.insert_rows(conn, "stage_changes", STAGE_COLUMNS, rows)
    return states


def _set_stages(conn: Connection, states: list[tuple[int, Timeline]]) -> None:
    if not states:
        return
    if conn.dialect.name == "sqlite":
        raw.driver(conn).executemany(_SET_STAGE, [
            (t.stage, raw.sqlite_timestamp(t.stage_at) if t.stage_at else None, int(t.detractor),
             cid) for cid, t in states])  # fmt: skip
        return
    with raw.driver(conn).cursor() as cursor:
        columns = (
            [c for c, _ in states],
            [t.stage for _, t in states],
            [t.stage_at for _, t in states],
            [t.detractor for _, t in states],
        )
        cursor.execute(_SET_STAGE_PG, [raw.pg_array(c) for c in columns])


# --------------------------------------------------------------------------------------------
# Rebuild: every customer from the log


def rebuild(
    conn: Connection,
    live: Live,
    *,
    customer_ids: Sequence[int] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = REBUILD_CHUNK,
) -> int:
    """Recompute the stage and every transition of `customer_ids` (default: every live
    customer) from the event log and the stored negative experiences, `chunk` customers at a
    time, inside the caller's transaction. Run after the pulse rebuild (which rewrites the
    negatives). Returns how many customers were processed; `progress` gets each chunk's count.
    """
    c = customers_t.c
    if customer_ids is None:
        ids = list(conn.execute(
            select(c.id).where(c.merged_into_id.is_(None)).order_by(c.id)).scalars())  # fmt: skip
    else:
        ids = sorted(set(customer_ids))
    plan = plan_of(live)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        work = {cid: _Work(None) for cid in part}
        for cid, anchor in _first_events(conn, part).items():
            work[cid].anchor = anchor
        _load_events(conn, plan, work)
        for cid, spans in _load_negatives(conn, part).items():
            work[cid].negatives = spans
        results = [(cid, job, _replay(plan, job)) for cid, job in work.items()]
        _set_stages(conn, _write(conn, results, set()))
        if progress is not None:
            progress(len(part))
    return len(ids)


# --------------------------------------------------------------------------------------------
# Reads: one customer's history, the funnel


def history(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """The customer's changes of stage, oldest first."""
    s = stage_changes_t.c
    rows = conn.execute(
        select(s.changed_at, s.from_stage, s.to_stage, s.message_id, s.channel, s.department)
        .where(s.customer_id == customer_id)
        .order_by(s.changed_at, s.id)
    )
    return [dict(row._mapping) for row in rows]


def customer_journey(
    conn: Connection, live: Live, *, customer_id: int, now: datetime
) -> dict[str, Any]:
    """The customer's stage now, since when, the overlays, and every change of stage."""
    c = customers_t.c
    row = conn.execute(
        select(c.id, c.stage, c.stage_at, c.detractor, c.open_negatives, c.last_return_at,
               overlays.at_risk(live.pulse, now).label("at_risk"),
               overlays.lapsed(live.journey, now).label("lapsed"))
        .where(c.id == customer_id)
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return {
        "customer_id": row.id, "stage": row.stage, "stage_at": row.stage_at,
        "at_risk": bool(row.at_risk), "lapsed": bool(row.lapsed),
        "detractor": bool(row.detractor), "open_negatives": row.open_negatives,
        "last_return_at": row.last_return_at, "history": history(conn, customer_id),
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class FunnelQuery:
    """The funnel's filters, checked."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    department: str | None = None


def funnel_query(
    start: str | None, end: str | None, channel: str | None, department: str | None
) -> FunnelQuery:
    """Check the funnel's filters as given in a form, a query string or on the command line;
    one Invalid lists every bad field."""
    errors: list[dict[str, Any]] = []
    since = until = None
    chosen_channel = chosen_department = None
    try:
        since, until = parse_range(start, end)
    except Invalid as exc:
        errors.extend(exc.errors)
    try:
        chosen_channel, chosen_department = check_filters(channel, department)
    except Invalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return FunnelQuery(since, until, chosen_channel, chosen_department)


def parse_range(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """The funnel's [start, end) from text: a day (both days included) or an ISO 8601 moment
    (no zone: UTC; the end moment excluded). Empty: open. Errors name the field."""
    errors: list[dict[str, str]] = []
    since = _parse_moment("start", start, errors, end_of_day=False)
    until = _parse_moment("end", end, errors, end_of_day=True)
    if since is not None and until is not None and since >= until:
        errors.append({"field": "end", "message": "must be after start"})
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return since, until


def _parse_moment(
    name: str, text: str | None, errors: list[dict[str, str]], *, end_of_day: bool
) -> datetime | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.append({"field": name, "message": f"{text[:40]!r} is not a date (YYYY-MM-DD)"
                                                 " or an ISO 8601 moment"})  # fmt: skip
        return None
    try:  # the range every moment taken in has (events.moments)
        if len(text) == 10:
            moment = moments.start_of(moments.check_day(day, name))
            return moment + timedelta(days=1) if end_of_day else moment
        return moments.check_moment(parsed, name)
    except Invalid as exc:
        errors.extend(exc.errors)
        return None


def check_filters(channel: str | None, department: str | None) -> tuple[str | None, str | None]:
    """Blank filters mean none; a channel must be one of the known channels."""
    channel = (channel or "").strip().lower() or None
    department = (department or "").strip() or None
    errors = []
    if channel is not None and channel not in CHANNELS:
        errors.append({"field": "channel", "message": f"must be one of {', '.join(CHANNELS)}"})
    if department is not None and len(department) > 100:
        errors.append({"field": "department", "message": "at most 100 characters"})
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return channel, department


def funnel(
    conn: Connection,
    live: Live,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    channel: str | None = None,
    department: str | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Per stage, in order: how many customers reached it in [start, end) (entered it or a
    later stage by an entry or a move up, through `channel` / `department` when given), the
    conversion from the previous stage, the median days in the stage (stays that ended in the
    range and began through the filters), and how many live customers are at it now, at risk
    and lapsed. See docs/architecture.md, "The journey"."""
    names = live.journey.stage_names
    reached = _reached(conn, names, start, end, channel, department)
    medians = _medians(conn, names, start, end, channel, department)
    now_counts = _now(conn, live, now)
    stages: list[dict[str, Any]] = []
    previous: int | None = None
    for index, name in enumerate(names):
        got = sum(n for top, n in reached.items() if top >= index)
        conversion = None if previous is None or previous == 0 else got / previous
        median, stays = medians.get(name, (None, 0))
        current, at_risk, lapsed = now_counts.get(name, (0, 0, 0))
        stages.append({"stage": name, "label": name.replace("_", " ").capitalize(),
                       "reached": got, "conversion": conversion, "median_days_in_stage": median,
                       "stays": stays, "current": current, "at_risk": at_risk,
                       "lapsed": lapsed})  # fmt: skip
        previous = got
    totals = [sum(v[i] for v in now_counts.values()) for i in range(3)]
    return {
        "start": start, "end": end, "channel": channel, "department": department, "as_of": now,
        "stages": stages,
        "now": {"customers": totals[0], "at_risk": totals[1], "lapsed": totals[2]},
    }  # fmt: skip


def _rank(column: Any, names: Sequence[str]) -> Any:
    return case({name: index for index, name in enumerate(names)}, value=column, else_=None)


def _window(table: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if start is not None:
        found.append(table.changed_at >= start)
    if end is not None:
        found.append(table.changed_at < end)
    return found


def _filters(table: Any, channel: str | None, department: str | None) -> list[Any]:
    found = []
    if channel is not None:
        found.append(table.channel == channel)
    if department is not None:
        found.append(table.department == department)
    return found


def _reached(
    conn: Connection,
    names: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    channel: str | None,
    department: str | None,
) -> dict[int, int]:
    """How many customers' highest stage entered (or moved up into) in the range is each."""
    s = stage_changes_t.c
    to_rank = _rank(s.to_stage, names)
    upward = s.from_stage.is_(None) | (func.coalesce(_rank(s.from_stage, names), -1) < to_rank)
    top = (
        select(s.customer_id, func.max(to_rank).label("top"))
        .where(upward, *_window(s, start, end), *_filters(s, channel, department))
        .group_by(s.customer_id)
        .subquery()
    )
    rows = conn.execute(
        select(top.c.top, func.count()).where(top.c.top.is_not(None)).group_by(top.c.top)
    )
    return {int(level): int(n) for level, n in rows}


def _medians(
    conn: Connection,
    names: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    channel: str | None,
    department: str | None,
) -> dict[str, tuple[float | None, int]]:
    """Median days between entering a stage and the customer's next change, per stage, over
    the stays that ended in the range and began through the filters."""
    left = stage_changes_t.alias("left_stage")
    entered = stage_changes_t.alias("entered")
    earlier = stage_changes_t.alias("earlier")
    before = (
        select(earlier.c.id)
        .where(earlier.c.customer_id == left.c.customer_id,
               earlier.c.changed_at < left.c.changed_at)
        .order_by(earlier.c.changed_at.desc(), earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )  # fmt: skip
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        days: Any = func.julianday(left.c.changed_at) - func.julianday(entered.c.changed_at)
    else:
        days = func.extract("epoch", left.c.changed_at - entered.c.changed_at) / 86_400.0
    stays = (
        select(entered.c.to_stage.label("stage"), days.label("days"))
        .select_from(left.join(entered, entered.c.id == before))
        .where(left.c.from_stage.is_not(None), *_window(left.c, start, end),
               *_filters(entered.c, channel, department))
        .subquery()
    )  # fmt: skip
    result: dict[str, tuple[float | None, int]] = {}
    if not sqlite:
        median = func.percentile_cont(0.5).within_group(stays.c.days)
        for stage, value, n in conn.execute(
            select(stays.c.stage, median, func.count()).group_by(stays.c.stage)
        ):
            result[stage] = (float(value), int(n))
        return result
    counts: dict[str, int] = {
        stage: int(n)
        for stage, n in conn.execute(select(stays.c.stage, func.count()).group_by(stays.c.stage))
    }
    ordered = conn.execute(select(stays.c.stage, stays.c.days).order_by(stays.c.stage,
                                                                        stays.c.days))  # fmt: skip
    position, current, low = 0, None, 0.0
    for stage, value in ordered:
        if stage != current:
            current, position = stage, 0
        n = int(counts[stage])
        if position == (n - 1) // 2:
            low = float(value)
        if position == n // 2:
            result[stage] = ((low + float(value)) / 2, n)
        position += 1
    return result


def _now(conn: Connection, live: Live, now: datetime) -> dict[str, tuple[int, int, int]]:
    """Per stage: live customers at it now, how many of them at risk, how many lapsed."""
    c = customers_t.c
    at_risk = func.sum(case((overlays.at_risk(live.pulse, now), 1), else_=0))
    lapsed = func.sum(case((overlays.lapsed(live.journey, now), 1), else_=0))
    rows = conn.execute(
        select(c.stage, func.count(), at_risk, lapsed)
        .where(c.merged_into_id.is_(None))
        .group_by(c.stage)
    )
    return {stage: (int(n), int(r or 0), int(lp or 0)) for stage, n, r, lp in rows}
