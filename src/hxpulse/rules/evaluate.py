"""Deciding, without writing: which rules a trigger fires for whom, why, and with what actions.

`verdicts` reads what the conditions need (customer state in one query, segment membership in
one query per segment, caps in one query per capped rule), only for the customers a rule's
trigger matched; `rules.service` writes what it decides, `rules.service.explain` shows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, func, select

from hxpulse.clv.models import CustomerValue
from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.errors import HXError
from hxpulse.events.schemas import EventIn
from hxpulse.outbox.models import OutboxRow
from hxpulse.outbox.service import Action
from hxpulse.privacy.consent import PURPOSES, allows_consent, status_of
from hxpulse.pulse import bands
from hxpulse.pulse.service import model
from hxpulse.rules.models import RuleFiring
from hxpulse.rules.settings import Cap, Condition, Rule, RuleAction, band_name

firings_t = cast(Table, RuleFiring.__table__)
outbox_t = cast(Table, OutboxRow.__table__)
values_t = cast(Table, CustomerValue.__table__)
MISSING = object()
CUSTOMER_FIELDS = ("traits.", "consent.", "stage", "band", "pulse", "segment", "clv", "p_alive")
VALUE_FIELDS = ("clv", "p_alive")  # the last `fit clv`; a customer without one: MISSING


@dataclass(frozen=True, slots=True)
class Trigger:
    """Something that happened to a customer: `kind` in event | stage | band | pulse | case,
    `name` (the event type, the stage or band entered, `below:X`, opened|breached|resolved),
    `cause` (a message id, `case:7`, `decay@<moment>`: one firing per rule and cause) and
    `data` (for events, the event's fields under "event"; for a case, its fields)."""

    kind: str
    name: str
    customer_id: int
    cause: str
    data: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "cause": self.cause, "data": self.data}


@dataclass(slots=True)
class Verdict:
    """One rule against one trigger: whether it fires, why, and what it writes."""

    rule: Rule
    trigger: Trigger
    reasons: list[dict[str, Any]] = field(default_factory=list)
    fires: bool = True
    capped: bool = False
    actions: list[Action] = field(default_factory=list)
    held_back: list[dict[str, Any]] = field(default_factory=list)  # actions capped on their own


def event_data(event: EventIn) -> dict[str, Any]:
    """An event's fields as rules read them (and as actions carry them: JSON)."""
    return {"message_id": event.message_id, "type": event.type, "channel": event.channel,
            "department": event.department, "value": event.value, "name": event.name,
            "source": event.source, "occurred_at": event.occurred_at.isoformat(),
            "properties": event.properties}  # fmt: skip


def matches(rule: Rule, trigger: Trigger, live: Live) -> bool:
    """Whether `rule`'s trigger is `trigger`."""
    t = rule.trigger
    if t.kind != trigger.kind:
        return False
    if t.kind == "event":
        named = trigger.name == t.event or live.pulse.canonical(trigger.name) == t.event
        props = trigger.data.get("event", {}).get("properties", {})
        got = props.get("band") if isinstance(props, dict) else None
        return named and (t.band is None or band_name(str(got or "")) == band_name(t.band))
    if t.kind == "stage":
        return t.stage == trigger.name and t.from_stage in (None, trigger.data.get("from"))
    return t.name == trigger.name


def short(text: str, limit: int = 200) -> str:
    """`text`, or a digest of it when it does not fit a key column."""
    if len(text) <= limit:
        return text
    return text[: limit - 41] + "~" + hashlib.sha256(text.encode()).hexdigest()[:40]


def firing_key(rule: Rule, trigger: Trigger) -> str:
    return short(f"rule:{rule.name}:{trigger.customer_id}:{trigger.cause}")


def action_prefix(rule: Rule, index: int) -> str:
    return f"rule:{rule.name}:{index}:"


def action_key(rule: Rule, index: int, trigger: Trigger) -> str:
    return short(f"{action_prefix(rule, index)}{trigger.customer_id}:{trigger.cause}")


def needs_customer(rule: Rule) -> bool:
    return any(c.field.startswith(CUSTOMER_FIELDS) for c in rule.when)


def verdicts(
    conn: Connection,
    live: Live,
    pairs: Sequence[tuple[Rule, Trigger]],
    *,
    now: datetime,
    customer: bool = True,
) -> list[Verdict]:
    """Decide every (rule, trigger) pair; `customer=False` reads no customer state (a dry run
    without a customer: conditions on the customer do not hold)."""
    wanted = {t.customer_id for r, t in pairs if needs_customer(r)} if customer else set()
    states = _states(conn, live, sorted(wanted), now) if wanted else {}
    if wanted and any(c.field in VALUE_FIELDS for r, _ in pairs for c in r.when):
        _add_values(conn, states)
    segments = _segments(conn, live, pairs, states, now)
    out = []
    for rule, trigger in pairs:
        verdict = Verdict(rule, trigger)
        state = states.get(trigger.customer_id)
        for cond in rule.when:
            actual = _actual(cond, trigger, state, segments)
            held = _holds(cond, actual)
            verdict.reasons.append({"condition": cond.describe(), "held": held,
                                    "actual": None if actual is MISSING else actual})  # fmt: skip
            verdict.fires &= held
        out.append(verdict)
    _apply_caps(conn, [v for v in out if v.fires], now)
    return out


def _states(
    conn: Connection, live: Live, ids: list[int], now: datetime
) -> dict[int, dict[str, Any]]:
    """What conditions read of each customer, in one query."""
    c = customers_t.c
    law = model(live.pulse)
    edges = bands.recent_bounds(conn, live, now)
    rows = conn.execute(select(c.id, c.traits, c.consent, c.stage, c.pulse_key, c.last_return_at,
                               c.created_at, c.open_negatives, c.detractor)
                        .where(c.id.in_(ids)))  # fmt: skip
    found = {}
    for row in rows:
        pulse = law.pulse(row.pulse_key, now)
        found[row.id] = {"traits": row.traits or {}, "consent": row.consent or {},
                         "stage": row.stage, "pulse": pulse,
                         "band": bands.classify(edges, stage=row.stage, key=row.pulse_key,
                                                last_return_at=row.last_return_at,
                                                created_at=row.created_at,
                                                open_negatives=row.open_negatives,
                                                detractor=bool(row.detractor))}  # fmt: skip
    return found


def _add_values(conn: Connection, states: dict[int, dict[str, Any]]) -> None:
    """Each customer's stored CLV and P(alive); MISSING (every comparison false) without."""
    v = values_t.c
    query = select(v.customer_id, v.clv, v.p_alive).where(v.customer_id.in_(sorted(states)))
    found = {row.customer_id: row for row in conn.execute(query)}
    for customer_id, state in states.items():
        row = found.get(customer_id)
        state["clv"] = MISSING if row is None else row.clv
        state["p_alive"] = MISSING if row is None else row.p_alive


def _segments(
    conn: Connection,
    live: Live,
    pairs: Sequence[tuple[Rule, Trigger]],
    states: dict[int, dict[str, Any]],
    now: datetime,
) -> dict[str, set[int] | str]:
    """Each segment the conditions name → its members among these customers (or why not)."""
    from hxpulse.segments import service as segments  # the segments domain imports config

    refs: dict[str, set[int]] = {}
    for rule, trigger in pairs:
        for cond in rule.when:
            if cond.field == "segment" and trigger.customer_id in states:
                refs.setdefault(str(cond.value), set()).add(trigger.customer_id)
    found: dict[str, set[int] | str] = {}
    c = customers_t.c
    for ref, ids in refs.items():
        try:
            definition = segments.find(conn, ref)["definition"]
            where = segments.condition(conn, live, definition, now)
            rows = conn.execute(select(c.id).where(c.id.in_(sorted(ids)), where))
            found[ref] = {row[0] for row in rows}
        except HXError as exc:
            found[ref] = str(exc)
    return found


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _actual(
    cond: Condition,
    trigger: Trigger,
    state: dict[str, Any] | None,
    segments: dict[str, set[int] | str],
) -> Any:
    name = cond.field
    if name.startswith("event."):
        event = trigger.data.get("event")
        return MISSING if event is None else _dig(event, name[len("event.") :])
    if name.startswith("trigger."):
        return _dig(trigger.data, name[len("trigger.") :])
    if state is None:
        return MISSING
    if name == "segment":
        members = segments.get(str(cond.value), set())
        return members if isinstance(members, str) else trigger.customer_id in members
    if name.startswith("consent."):
        purpose = name[len("consent.") :]
        if purpose in PURPOSES:
            return allows_consent(state["consent"], purpose)
        return status_of(state["consent"], purpose)
    if name.startswith("traits."):
        return _dig(state["traits"], name[len("traits.") :])
    return state[name]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected or band_name(actual) == band_name(expected)
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None and not isinstance(actual, bool | str):
        return a == b
    return bool(actual == expected)


def _holds(cond: Condition, actual: Any) -> bool:
    op, expected = cond.op, cond.value
    if cond.field == "segment":
        member = actual is True
        return member if op == "eq" else actual is False
    if op == "exists":
        present = actual is not MISSING and actual is not None
        return present == (True if expected is None else bool(expected))
    if actual is MISSING:
        return False
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "in":
        return any(_equal(actual, item) for item in expected)
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(expected, str) and expected.lower() in actual.lower()
        return isinstance(actual, list | dict) and expected in actual
    a, b = _number(actual), _number(expected)
    if a is None or b is None:
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def _since(cap: Cap, now: datetime) -> datetime:
    return now - timedelta(hours=cap.within_hours)


def _apply_caps(conn: Connection, firing: list[Verdict], now: datetime) -> None:
    """Hold back what a cap forbids (counting this call's own firings too), then build the
    actions of what fires."""
    used: dict[tuple[str, int], int] = {}
    for rule_name, cap, ids in _capped_rules(firing):
        f = firings_t.c
        rows = conn.execute(
            select(f.customer_id, func.count()).where(
                f.rule == rule_name, f.customer_id.in_(ids), f.capped.is_(False),
                f.fired_at > _since(cap, now)).group_by(f.customer_id)
        )  # fmt: skip
        used.update({(rule_name, cid): n for cid, n in rows})
    action_used = _action_counts(conn, firing, now)
    for verdict in firing:
        rule, cid = verdict.rule, verdict.trigger.customer_id
        if rule.cap is not None:
            count = used.get((rule.name, cid), 0)
            if count >= rule.cap.per_customer:
                verdict.capped = True
                continue
            used[(rule.name, cid)] = count + 1
        for index, action in enumerate(rule.actions):
            if action.cap is not None:
                slot = (action_prefix(rule, index), cid)
                if action_used.get(slot, 0) >= action.cap.per_customer:
                    verdict.held_back.append({"index": index, "action": action.name})
                    continue
                action_used[slot] = action_used.get(slot, 0) + 1
            verdict.actions.append(build_action(rule, index, action, verdict.trigger))


def _capped_rules(firing: list[Verdict]) -> list[tuple[str, Cap, list[int]]]:
    by_rule: dict[str, tuple[Cap, set[int]]] = {}
    for v in firing:
        if v.rule.cap is not None:
            by_rule.setdefault(v.rule.name, (v.rule.cap, set()))[1].add(v.trigger.customer_id)
    return [(name, cap, sorted(ids)) for name, (cap, ids) in by_rule.items()]


def _action_counts(
    conn: Connection, firing: list[Verdict], now: datetime
) -> dict[tuple[str, int], int]:
    """Outbox rows each capped action wrote per customer within its window."""
    counts: dict[tuple[str, int], int] = {}
    o = outbox_t.c
    for v in firing:
        for index, action in enumerate(v.rule.actions):
            prefix, cid = action_prefix(v.rule, index), v.trigger.customer_id
            if action.cap is None or (prefix, cid) in counts:
                continue
            counts[(prefix, cid)] = conn.execute(
                select(func.count()).where(and_(
                    o.customer_id == cid, o.key.startswith(prefix, autoescape=True),
                    o.created_at > _since(action.cap, now)))
            ).scalar_one()  # fmt: skip
    return counts


def build_action(rule: Rule, index: int, action: RuleAction, trigger: Trigger) -> Action:
    """The outbox action of `rule`'s action `index` for `trigger`."""
    kind, payload = _payload(rule, action, trigger)
    return Action(kind=kind, key=action_key(rule, index, trigger), payload=payload,
                  customer_id=trigger.customer_id, cause=short(trigger.cause))  # fmt: skip


def _payload(rule: Rule, action: RuleAction, trigger: Trigger) -> tuple[str, dict[str, Any]]:
    fired = {"rule": rule.name, "customer_id": trigger.customer_id,
             "trigger": trigger.summary()}  # fmt: skip
    event = trigger.data.get("event") or {}
    if (case := action.open_case) is not None:
        return "case.open", {
            "reason": case.reason or rule.description or rule.name,
            "source_event": event.get("message_id"), "priority": case.priority,
            "team": case.team, "department": event.get("department"),
            "channel": event.get("channel"), "owner": case.owner, "rule": rule.name,
        }  # fmt: skip
    if (invite := action.invite_survey) is not None:
        return "survey.invite", {"survey": invite.survey, "rule": rule.name}
    if (note := action.notify_customer) is not None:
        return "notify", {"title": note.title, "message": note.message, "data": fired}
    if (team := action.notify_team) is not None:
        return "feed", {"scope": "team", "team": team.team, "type": "rule.fired",
                        "data": {**fired, "message": team.message}}  # fmt: skip
    if action.webhook is not None:
        return "webhook", {"endpoint": action.webhook, "type": "rule.fired", "data": fired}
    if (mail := action.email) is not None:
        return "email", {"to": mail.to, "template": mail.template, "subject": mail.subject,
                         "context": fired}  # fmt: skip
    if (offer := action.send_offer) is not None:
        context = event.get("type") if trigger.kind == "event" else None
        return "offer.send", {"via": offer.via, "webhook": offer.webhook, "title": offer.title,
                              "context": context, "data": fired}  # fmt: skip
    invest = action.record_investment
    assert invest is not None  # exactly one action is set (RuleAction checks)
    return "investment", {"type": invest.type, "name": invest.name or rule.name,
                          "properties": {"rule": rule.name, "cause": trigger.cause}}  # fmt: skip
