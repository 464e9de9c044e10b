"""Rules: fire them for triggers inside the caller's transaction, into the outbox.

`fire` (one trigger) and `fire_many` decide with `rules.evaluate` and write, in the caller's
transaction, one `rule_firings` row per (rule, customer, cause) and the actions into the outbox
(keys `rule:NAME:INDEX:CUSTOMER:CAUSE`): an action exists if and only if its cause is committed,
and a replayed cause writes nothing twice. `step` is the ingest step; `explain` the dry run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, func, select
from sqlalchemy import cast as sql_cast

from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.errors import NotFound
from hxpulse.events.batch import Batch
from hxpulse.outbox.service import enqueue
from hxpulse.pulse import bands
from hxpulse.pulse.service import model
from hxpulse.rules.evaluate import (
    Trigger,
    Verdict,
    event_data,
    firing_key,
    firings_t,
    matches,
    short,
    verdicts,
)
from hxpulse.rules.settings import Rule

__all__ = ["Trigger", "Verdict", "explain", "fire", "fire_many", "step"]


def fire(conn: Connection, live: Live, trigger: Trigger, *, now: datetime) -> list[Verdict]:
    """Evaluate the configured rules for `trigger` and write what fires (see `fire_many`)."""
    return fire_many(conn, live, [trigger], now=now)


def fire_many(
    conn: Connection, live: Live, triggers: Sequence[Trigger], *, now: datetime
) -> list[Verdict]:
    """Evaluate the rules for every trigger; record each firing (capped ones too) and enqueue
    the actions of those that fire, in the caller's transaction. A (rule, customer, cause)
    already recorded is skipped: replaying a cause fires nothing twice."""
    pairs = [(rule, t) for t in triggers for rule in live.rules.of(t.kind)
             if matches(rule, t, live)]  # fmt: skip
    if not pairs:
        return []
    keys = [firing_key(rule, t) for rule, t in pairs]
    known = {row[0] for row in raw.select_in(conn, "SELECT key FROM rule_firings WHERE key {in}",
                                             keys)}  # fmt: skip
    fresh, seen = [], set()
    for pair, key in zip(pairs, keys, strict=True):
        if key not in known and key not in seen:
            fresh.append(pair)
            seen.add(key)
    decided = [v for v in verdicts(conn, live, fresh, now=now) if v.fires]
    if not decided:
        return []
    enqueue(conn, [a for v in decided for a in v.actions], now=now)
    conn.execute(firings_t.insert(), [_firing_row(v, now) for v in decided])
    return decided


def _firing_row(verdict: Verdict, now: datetime) -> dict[str, Any]:
    t = verdict.trigger
    return {"key": firing_key(verdict.rule, t), "rule": verdict.rule.name,
            "customer_id": t.customer_id, "trigger_kind": t.kind,
            "trigger_name": short(t.name, 100), "cause": short(t.cause),
            "actions": [{"kind": a.kind, "key": a.key} for a in verdict.actions],
            "capped": verdict.capped, "fired_at": now}  # fmt: skip


# -- the ingest step -----------------------------------------------------------------------------


def step(batch: Batch) -> None:
    """The ingest step after the pulse is written: the batch's events, changes of stage and
    changes of band as triggers, fired in the batch's transaction. Costs one dict lookup per
    event when no rule's trigger matches (and nothing else unless band rules exist)."""
    book = batch.live.rules
    if not book.by_kind:
        return
    triggers = _event_triggers(batch) if book.events else []
    if batch.transitions and book.of("stage"):
        triggers += _stage_triggers(batch)
    if batch.changes and book.of("band"):
        triggers += _band_triggers(batch)
    if triggers:
        fire_many(batch.conn, batch.live, triggers, now=batch.now)


def _event_triggers(batch: Batch) -> list[Trigger]:
    events, aliases = batch.live.rules.events, batch.live.pulse.alias_table
    oldest = batch.now - batch.live.rules.max_age
    found = []
    for event, owner in zip(batch.events, batch.owners, strict=True):
        if event.occurred_at < oldest:
            continue  # history arriving late (an import): it triggers nothing now
        name = event.type
        if name not in events:
            name = aliases.get(name, "")
            if name not in events:
                continue
        found.append(Trigger("event", name, owner, event.message_id, {"event": event_data(event)}))
    return found


def _stage_triggers(batch: Batch) -> list[Trigger]:
    oldest = batch.now - batch.live.rules.max_age
    found = []
    for customer_id, transitions in batch.transitions.items():
        for move in transitions:
            if move.at < oldest:
                continue  # a change of stage long ago (history arriving late)
            cause = move.message_id or f"stage:{move.to_stage}@{move.at.isoformat()}"
            found.append(Trigger("stage", move.to_stage, customer_id, cause,
                                 {"from": move.from_stage, "to": move.to_stage,
                                  "at": move.at.isoformat()}))  # fmt: skip
    return found


def note_bands(batch: Batch) -> None:
    """The ingest step before the pulse is written: each changed customer's band before the
    batch, when a rule waits for a change of band (nothing otherwise)."""
    if batch.changes and batch.live.rules.of("band"):
        batch.bands_before = {
            cid: got[0] for cid, got in _bands_of(batch, sorted(batch.changes)).items()
        }


def _bands_of(batch: Batch, ids: list[int]) -> dict[int, tuple[str, float]]:
    """Each customer's band and stored key, read now."""
    edges = bands.recent_bounds(batch.conn, batch.live, batch.now)
    c = customers_t.c
    found: dict[int, tuple[str, float]] = {}
    for start in range(0, len(ids), 500):
        rows = batch.conn.execute(
            select(c.id, c.stage, c.pulse_key, c.last_return_at, c.created_at, c.open_negatives,
                   c.detractor).where(c.id.in_(ids[start : start + 500]))
        )  # fmt: skip
        for r in rows:
            found[r.id] = (bands.classify(edges, stage=r.stage, key=r.pulse_key,
                                          last_return_at=r.last_return_at,
                                          created_at=r.created_at,
                                          open_negatives=r.open_negatives,
                                          detractor=bool(r.detractor)), r.pulse_key)  # fmt: skip
    return found


def _band_triggers(batch: Batch) -> list[Trigger]:
    """Customers whose band changed with this batch: read before the write (`note_bands`) and
    after it, at the batch's moment."""
    if not batch.changes:
        return []
    before = batch.bands_before
    after = _bands_of(batch, sorted(batch.changes))
    law = model(batch.live.pulse)
    last: dict[int, str] = {}
    for event, owner in zip(batch.events, batch.owners, strict=True):
        last[owner] = event.message_id
    found = []
    for cid, (to, key) in after.items():
        was = before.get(cid)
        if to != was:
            cause = f"band:{to}@{last.get(cid, batch.now.isoformat())}"
            found.append(Trigger("band", to, cid, cause,
                                 {"from": was, "to": to,
                                  "pulse": law.pulse(key, batch.now)}))  # fmt: skip
    return found


# -- reads ---------------------------------------------------------------------------------------


def rule_of(live: Live, name: str) -> Rule:
    found = live.rules.get(name)
    if found is None:
        raise NotFound(f"no rule is named {name[:60]!r}")
    return found


def describe(rule: Rule) -> dict[str, Any]:
    """A rule as the API and the pages show it."""
    return {"name": rule.name, "description": rule.description, "enabled": rule.enabled,
            "trigger": {"kind": rule.trigger.kind, "name": rule.trigger.name,
                        "text": rule.trigger.describe()},
            "when": [c.describe() for c in rule.when],
            "actions": [a.model_dump(exclude_none=True, mode="json") for a in rule.actions],
            "cap": None if rule.cap is None else rule.cap.model_dump()}  # fmt: skip


def list_rules(conn: Connection, live: Live) -> list[dict[str, Any]]:
    """Every configured rule with how often it fired and was capped."""
    f = firings_t.c
    capped = func.sum(sql_cast(f.capped, Integer))
    query = select(f.rule, func.count(), capped).group_by(f.rule)
    counts = {name: (int(n), int(held or 0)) for name, n, held in conn.execute(query)}
    out = []
    for rule in live.rules.rules:
        fired, held = counts.get(rule.name, (0, 0))
        out.append(describe(rule) | {"firings": fired - held, "capped": held})
    return out


def firings(
    conn: Connection, *, rule: str | None = None, customer_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Recent firings, newest first, of one rule or for one customer."""
    f = firings_t.c
    query = select(f.id, f.rule, f.customer_id, f.trigger_kind, f.trigger_name, f.cause,
                   f.actions, f.capped, f.fired_at)  # fmt: skip
    if rule is not None:
        query = query.where(f.rule == rule)
    if customer_id is not None:
        query = query.where(f.customer_id == customer_id)
    rows = conn.execute(query.order_by(f.fired_at.desc(), f.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]


def explain(
    conn: Connection,
    live: Live,
    rule: Rule,
    trigger: Trigger,
    *,
    now: datetime,
    customer: bool = True,
) -> dict[str, Any]:
    """What `rule` would do for `trigger` and why, writing nothing (the dry run)."""
    matched = matches(rule, trigger, live)
    result: dict[str, Any] = {
        "rule": rule.name, "trigger": rule.trigger.describe(), "matched": matched,
        "fires": False, "capped": False, "reasons": [], "actions": [], "held_back": []}  # fmt: skip
    if not matched:
        result["reasons"].append(
            {
                "condition": f"trigger: {rule.trigger.describe()}",
                "held": False,
                "actual": f"{trigger.kind} {trigger.name}",
            }
        )
        return result  # fmt: skip
    verdict = verdicts(conn, live, [(rule, trigger)], now=now, customer=customer)[0]
    result.update(fires=verdict.fires and not verdict.capped, capped=verdict.capped,
                  reasons=verdict.reasons, held_back=verdict.held_back,
                  actions=[{"kind": a.kind, "key": a.key, "payload": a.payload}
                           for a in verdict.actions])  # fmt: skip
    return result


def trial(
    conn: Connection,
    live: Live,
    name: str,
    event: dict[str, Any],
    *,
    customer_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The dry run of rule `name` for `event` (a `schemas.TestEvent` as a dict), for a customer
    or none (conditions on the customer then do not hold): what would fire and why. A rule not
    triggered by events takes its own trigger as having happened. Writes nothing."""
    rule = rule_of(live, name)
    data: dict[str, Any] = {"event": {**event, "occurred_at": now.isoformat()}}
    assumed = rule.trigger.kind != "event"
    if assumed:
        data |= {"from": rule.trigger.from_stage}
        trigger = Trigger(rule.trigger.kind, rule.trigger.name, customer_id or 0, "dry-run", data)
    else:
        trigger = Trigger("event", str(event["type"]), customer_id or 0,
                          str(event.get("message_id") or "dry-run"), data)  # fmt: skip
    said = explain(conn, live, rule, trigger, now=now, customer=customer_id is not None)
    return said | {"assumed": assumed}
