"""The journey's live path: in the ingest transaction, re-evaluate the customers a batch can
move, and the ingest step (`step`) that hands the verdicts to the pulse's update of each row.

A customer's stage is decided from stored state when it can be: `customers.journey_counters`
holds what the replay knows at the customer's latest evaluated moment (`definition.Counters`),
so a batch whose stage-relevant events all come after that moment goes on from there with the
batch's events alone, without reading the customer's history. Late events (at or before that
moment), merges, customers without counters (older data, or counters kept under other
`[journey]` settings) and entries that move are replayed from the event log, as the
definition says, and get counters again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from hxpulse.config import Live
from hxpulse.events.batch import Batch
from hxpulse.events.schemas import EventIn
from hxpulse.journey import store
from hxpulse.journey.definition import (
    BY_TIME,
    Counters,
    Moment,
    Rules,
    StageEvent,
    Timeline,
    Transition,
    decode,
    encode,
    replay,
)
from hxpulse.pulse.live import Change

ANCHOR = "\x00entry"  # type of a stand-in for a stored entry: relevant to no condition


@dataclass(frozen=True, slots=True)
class Plan:
    """What the live path needs from `Live`, computed once per settings object."""

    rules: Rules
    relevant: frozenset[str]  # event types that can change a stage
    negative: frozenset[str]  # event types that open a negative experience
    relevant_sql: str  # `relevant` as an SQL list of literals
    spans: frozenset[str]  # event types that open or resolve a negative experience
    satisfied: bool  # whether a stage asks for satisfaction (then negatives are read)


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
    spans = negative | frozenset(names(t for t, w in weights.items() if w.resolves))
    relevant = frozenset(set(rules.by_type) | rules.nps | rules.detractors | spans)
    literals = ", ".join(_literal(t) for t in sorted(relevant)) or "''"
    satisfied = any(needs for _, _, needs in rules.descending)
    plan = Plan(rules, relevant, negative, literals, spans, satisfied)
    _PLANS[id(live)] = (live, plan)
    return plan


def relevant_types(live: Live) -> frozenset[str]:
    """The event types that can change a customer's stage under these settings."""
    return plan_of(live).relevant


def _literal(value: str) -> str:
    # an SQL string literal, also safe inside str.format (raw.select_in formats the statement)
    return "'" + value.replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


@dataclass(slots=True)
class Work:
    """One customer to replay: from when its stored transitions are replaced (None: all)."""

    since: datetime | None
    anchor: StageEvent | None = None  # its first event, when not among the loaded ones
    events: list[Moment] = field(default_factory=list)
    negatives: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    stored_until: datetime | None = None  # time of its latest stored transition
    stage_before: str | None = None  # its stored stage, when that is the stage before `since`
    counters: Counters | None = None  # its stored counters, when `events` all come after them


class Verdict(NamedTuple):
    """A customer's stage after the batch (`timeline.stage_at` None: unchanged), the
    transitions stored for it, and its counters as stored."""

    customer_id: int
    timeline: Timeline
    added: list[Transition]
    counters: str | None


def step(batch: Batch) -> None:
    """The ingest step: re-evaluate the stages the batch can move; the stage and counters go
    into each customer's pulse change (written with the sums in one update of the row) and the
    stored transitions into `batch.transitions`."""
    verdicts = update(batch.conn, batch.live, batch.events, batch.owners,
                      created=batch.created, merged=batch.merged, now=batch.now)  # fmt: skip
    changes = batch.changes
    for verdict in verdicts:
        change = changes.get(verdict.customer_id)
        if change is None:
            change = changes[verdict.customer_id] = Change()
        timeline = verdict.timeline
        change.stage, change.stage_at = timeline.stage, timeline.stage_at
        change.detractor, change.journey = timeline.detractor, verdict.counters
        if verdict.added:
            batch.transitions[verdict.customer_id] = verdict.added


def update(
    conn: Connection,
    live: Live,
    events: Sequence[EventIn],
    owners: Sequence[int],
    *,
    created: Sequence[int] = (),
    merged: Sequence[int] = (),
    now: datetime | None = None,
) -> list[Verdict]:
    """Re-evaluate the stages the batch `events` (owned by `owners`) can move.

    Writes the transitions and returns, per customer re-evaluated, what must be set on the
    row: the caller writes it together with the pulse sums, in one update of each row
    (`pulse.live.apply`).

    Inside the ingest transaction, after the events and the pulse's negative experiences are
    stored. Re-evaluated: new customers (from the batch alone), merge survivors (from
    scratch), customers with a stage-relevant event in the batch (from their stored counters
    when the batch's events are later than them, else from that event's time on) and
    customers with a batch event earlier than their stored entry (the entry moves). Stages
    live on event time, so `now` is not used.
    """
    plan = plan_of(live)
    rules, relevant = plan.rules, plan.relevant
    fresh = set(created)
    since: dict[int, datetime] = {}  # existing customers: their earliest relevant batch event
    mine: dict[int, list[Moment]] = {}  # existing customers: their relevant batch events
    new_events: dict[int, list[EventIn]] = {}  # new customers: all their batch events
    for event, cid in zip(events, owners, strict=True):
        if cid in fresh:
            new_events.setdefault(cid, []).append(event)
        elif event.type in relevant:
            have = mine.get(cid)
            if have is None:
                mine[cid], since[cid] = [event], event.occurred_at
            else:
                have.append(event)
                if event.occurred_at < since[cid]:
                    since[cid] = event.occurred_at
    work: dict[int, Work] = {}
    full = set(merged)
    read = store.moment_reader(conn)
    slow: list[int] = []  # a batch event earlier than their latest change: need the entry
    spanned: set[int] = set()  # customers whose negative experiences can matter
    for cid, stage, stage_at, opened, stored in store.stored_stages(
        conn, sorted(c for c in since if c not in full)
    ):
        if stage_at is None or stage not in rules.index:
            full.add(cid)  # nothing stored yet (older data), or a stage no longer configured
            continue
        first, latest = since[cid], read(stage_at)
        known = decode(rules, stored)
        if known is not None and known.until < first and latest < first:
            # in order: go on from the stored counters with the batch's events alone
            # (a negative experience matters after `until` only if open or resolved by now)
            work[cid] = Work(first, events=mine[cid], stage_before=stage, counters=known)
            if opened or any(e.type in plan.spans for e in mine[cid]):
                spanned.add(cid)
            continue
        spanned.add(cid)
        if latest < first:  # after the latest change: replay from the stored stage
            work[cid] = Work(first, stored_until=latest, stage_before=stage)
        else:
            slow.append(cid)
    entries: dict[int, tuple[datetime, datetime]] = {}
    for cid, earliest, latest in store.stored_span(conn, slow):
        entries[cid] = (read(earliest), read(latest))
    full.update(cid for cid in slow if cid not in entries)
    firsts = _late_firsts(conn, events, owners, fresh | full, entries, read)
    for cid, (entry, latest) in entries.items():
        batch_first = firsts.get(cid)
        if batch_first is not None and batch_first.occurred_at < entry:
            # a late event before the entry: the entry moves to it
            job = Work(batch_first.occurred_at, _stage_event(batch_first))
        elif cid in since:
            job = Work(since[cid], StageEvent("", ANCHOR, entry))
        else:
            continue
        job.stored_until = latest
        work[cid] = job
        spanned.add(cid)
    spanned.update(full)
    if full:
        for cid in full:
            work[cid] = Work(None)
        for cid, anchor in store.first_events(conn, sorted(full)).items():
            work[cid].anchor = anchor
    load(conn, plan, work)
    fresh_negative = [cid for cid, found in new_events.items()
                      if any(e.type in plan.negative for e in found)]  # fmt: skip
    negatives = store.load_negatives(conn, sorted({*spanned, *fresh_negative})) if (
        plan.satisfied) else {}  # fmt: skip
    for cid, spans in negatives.items():
        if cid in work:
            work[cid].negatives = spans
    verdicts = [verdict(plan, cid, job) for cid, job in work.items()]
    first_stage = rules.names[0]
    empty_seen: list[list[datetime]] = [[] for _ in rules.windows]
    for cid, found in new_events.items():
        start = min(found, key=_in_time)
        picked: list[Moment] = [e for e in found if e.type in relevant]
        if not picked:  # the common case: only an entry into the first stage
            opening = Transition(start.occurred_at, None, first_stage, start.message_id,
                                 start.channel, start.department)  # fmt: skip
            timeline = Timeline([opening], first_stage, start.occurred_at, False)
            counters: Counters | None = Counters(start.occurred_at, [0] * rules.plain,
                                                 empty_seen, False)  # fmt: skip
        else:
            if start.type not in relevant:
                picked.append(start)
            picked.sort(key=BY_TIME)
            timeline, counters = replay(rules, picked, negatives.get(cid, []), None, -1)
        verdicts.append(Verdict(cid, timeline, timeline.transitions,
                                encode(rules, counters) if counters else None))  # fmt: skip
    store.replace_transitions(conn, [replaced(v, work.get(v.customer_id)) for v in verdicts],
                              fresh)  # fmt: skip
    return verdicts


def replaced(
    verdict: Verdict, job: Work | None
) -> tuple[int, datetime | None, bool, list[Transition]]:
    """What `store.replace_transitions` does for one verdict (no job: a new customer)."""
    if job is None:
        return verdict.customer_id, None, False, verdict.added
    stored = job.stored_until is not None and job.since is not None and (
        job.stored_until >= job.since)  # fmt: skip
    return verdict.customer_id, job.since, stored, verdict.added


def load(conn: Connection, plan: Plan, work: dict[int, Work]) -> None:
    """Load the stage-relevant events of the jobs that do not go on from stored counters."""
    replayed = sorted(cid for cid, job in work.items() if job.counters is None)
    for cid, found in store.load_events(conn, plan.relevant_sql, replayed).items():
        work[cid].events = found


def verdict(plan: Plan, cid: int, job: Work) -> Verdict:
    """Replay one customer: from their counters, from their stage before `since`, or from the
    first event (the anchor only when it is not loaded already)."""
    rules = plan.rules
    events = job.events
    current = rules.index.get(job.stage_before, -1) if job.stage_before is not None else -1
    if current >= 0:
        if len(events) > 1:
            events.sort(key=BY_TIME)
        if job.counters is not None:  # every transition is from `since` on
            timeline, counters = replay(rules, events, job.negatives, None, current, job.counters)
            return Verdict(cid, timeline, timeline.transitions, encode(rules, counters)
                           if counters else None)  # fmt: skip
        timeline, counters = replay(rules, events, job.negatives, job.since, current)
    else:
        if job.anchor is not None and job.anchor.type not in plan.relevant:
            events = [*events, job.anchor]
        timeline, counters = replay(rules, sorted(events, key=BY_TIME), job.negatives, None, -1)
    since = job.since
    added = timeline.transitions
    if since is not None:
        added = [t for t in added if t.at >= since]
    return Verdict(cid, timeline, added, encode(rules, counters) if counters else None)


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
    latest = store.latest_change(conn)
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
    for cid, earliest_entry, last in store.entries_after(conn, others, first):
        entries[cid] = (read(earliest_entry), read(last))
    return {
        cid: e for cid, e in first.items() if cid in entries and e.occurred_at < entries[cid][0]
    }


def _stage_event(event: EventIn) -> StageEvent:
    return StageEvent(event.message_id, event.type, event.occurred_at, event.channel,
                      event.department)  # fmt: skip
