"""Customer logic: resolve identities to one profile, merge profiles, read profiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, text, update

from hxpulse.analytics.pulse import key_sum
from hxpulse.customers.models import Customer, CustomerMerge, Identity
from hxpulse.customers.traits import merge_consent
from hxpulse.db import raw
from hxpulse.db.engine import RetryTransaction, is_sqlite
from hxpulse.events.models import Event
from hxpulse.journey.models import StageChange
from hxpulse.pulse.models import PulseNegative

IdentityKey = tuple[str, str]
customers_t = cast(Table, Customer.__table__)
identities_t = cast(Table, Identity.__table__)
merges_t = cast(Table, CustomerMerge.__table__)
events_t = cast(Table, Event.__table__)
negatives_t = cast(Table, PulseNegative.__table__)
stage_changes_t = cast(Table, StageChange.__table__)


@dataclass(slots=True)
class Resolution:
    """Which customer each group of identities belongs to, and what had to change."""

    customer_of: dict[IdentityKey, int] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    merges: list[tuple[int, list[int]]] = field(default_factory=list)


class _Groups:
    """Union-find over identity keys: identities named together belong to one person."""

    def __init__(self) -> None:
        self.parent: dict[IdentityKey, IdentityKey] = {}

    def find(self, key: IdentityKey) -> IdentityKey:
        parent = self.parent.setdefault(key, key)
        if parent != key:
            parent = self.parent[key] = self.find(parent)
        return parent

    def join(self, keys: Sequence[IdentityKey]) -> None:
        root = self.find(keys[0])
        for key in keys[1:]:
            other = self.find(key)
            if other != root:
                self.parent[other] = root


def existing_identities(conn: Connection, keys: Iterable[IdentityKey]) -> dict[IdentityKey, int]:
    """Return the customer id of each key that is already known."""
    wanted = set(keys)
    values = sorted({value for _, value in wanted})
    sql = "SELECT value, kind, customer_id FROM identities WHERE value {in}"
    return {
        (kind, value): cid
        for value, kind, cid in raw.select_in(conn, sql, values)
        if (kind, value) in wanted
    }


def settle_previous_ids(conn: Connection, key_lists: Sequence[list[IdentityKey]]) -> None:
    """Turn each alias `previous_id` into the user id or anonymous id it names.

    Segment's previousId may be either; a known user id wins, then a known anonymous id, and
    an unknown one is taken as an anonymous id.
    """
    previous = [key[1] for keys in key_lists for key in keys if key[0] == "previous_id"]
    if not previous:
        return
    candidates = [(kind, v) for v in previous for kind in ("user_id", "anonymous_id")]
    known = existing_identities(conn, candidates)
    for keys in key_lists:
        for i, (kind, value) in enumerate(keys):
            if kind == "previous_id":
                as_user = ("user_id", value)
                keys[i] = as_user if as_user in known else ("anonymous_id", value)


def resolve(
    conn: Connection,
    key_sets: Sequence[Sequence[IdentityKey]],
    *,
    now: datetime,
    message_ids: Sequence[str],
    known: dict[IdentityKey, int] | None = None,
) -> Resolution:
    """Find or create the one customer behind each set of identities, merging where needed.

    `message_ids[i]` names the event that brought `key_sets[i]`; a merge is recorded with the
    first event of its group that named identities of two existing customers. `known` is the
    result of `existing_identities` for (at least) these keys, when the caller has it already.
    """
    groups = _Groups()
    for keys in key_sets:
        groups.join(keys)
    if known is None:
        known = existing_identities(conn, groups.parent)
    members: dict[IdentityKey, list[IdentityKey]] = {}
    for key in groups.parent:
        members.setdefault(groups.find(key), []).append(key)
    owners = {root: _owners(keys, known) for root, keys in members.items()}
    if any(len(ids) > 1 for ids in owners.values()):
        # lock every known customer of the batch at once, in id order, before any merge
        lock_for_merge(conn, sorted({cid for ids in owners.values() for cid in ids}))
    fresh_roots = [root for root, ids in owners.items() if not ids]
    new_ids = _create_customers(conn, len(fresh_roots), now=now)
    result = Resolution(created=new_ids)
    for root, new_id in zip(fresh_roots, new_ids, strict=True):
        owners[root] = [new_id]
    new_identities: list[tuple[Any, ...]] = []
    stamp = raw.timestamp_writer(conn)(now)
    events_of: dict[IdentityKey, list[int]] = {}
    if any(len(ids) > 1 for ids in owners.values()):
        for i, keys in enumerate(key_sets):
            events_of.setdefault(groups.find(keys[0]), []).append(i)
    for root, keys in members.items():
        survivor, *merged = owners[root]
        if merged:
            reason = _merging_event(events_of[root], key_sets, known, message_ids)
            merge(conn, survivor_id=survivor, merged_ids=merged, now=now, reason=reason)
            result.merges.append((survivor, merged))
        for key in keys:
            result.customer_of[key] = survivor
            if key not in known:
                new_identities.append((survivor, key[0], key[1], stamp))
    raw.insert_rows(conn, "identities", ("customer_id", "kind", "value", "created_at"),
                    new_identities)  # fmt: skip
    return result


def _merging_event(
    in_group: list[int],
    key_sets: Sequence[Sequence[IdentityKey]],
    known: dict[IdentityKey, int],
    message_ids: Sequence[str],
) -> str:
    for i in in_group:
        if len({known[k] for k in key_sets[i] if k in known}) > 1:
            return message_ids[i]
    return message_ids[in_group[0]]


def _owners(keys: list[IdentityKey], known: dict[IdentityKey, int]) -> list[int]:
    if len(keys) == 1:
        owner = known.get(keys[0])
        return [] if owner is None else [owner]
    return sorted({known[k] for k in keys if k in known})


def lock_for_merge(conn: Connection, customer_ids: list[int]) -> None:
    """On PostgreSQL, lock the customers in id order; retry if one was merged meanwhile.

    The exclusive lock waits for any transaction that is adding events to these customers
    (the foreign-key check holds a key-share lock), so the merge moves their events too.
    Every lock a batch takes on customers is taken in ascending id order (here, and by the
    foreign-key checks of the id-sorted COPY), so concurrent batches do not deadlock.
    """
    if is_sqlite(conn):
        return  # SQLite writers already hold the database write lock
    sql = "SELECT id, merged_into_id, erased_at FROM customers WHERE id {in} ORDER BY id FOR UPDATE"
    found = raw.select_in(conn, sql, sorted(customer_ids))
    if any(merged is not None or erased is not None for _, merged, erased in found):
        raise RetryTransaction("a customer was merged or erased by a concurrent request")


def verify_live(conn: Connection, customer_ids: Sequence[int]) -> None:
    """Retry if a concurrent merge or erasure took one of these customers after we resolved
    it (after an erasure the retry finds the identities tombstoned and drops the events)."""
    if is_sqlite(conn):
        return
    sql = (
        "SELECT id FROM customers WHERE (merged_into_id IS NOT NULL OR erased_at IS NOT NULL)"
        " AND id {in}"
    )
    if raw.select_in(conn, sql, list(customer_ids)):
        raise RetryTransaction("a customer was merged or erased by a concurrent request")


def _create_customers(conn: Connection, count: int, *, now: datetime) -> list[int]:
    if count == 0:
        return []
    if is_sqlite(conn):
        start = conn.execute(select(func.coalesce(func.max(customers_t.c.id), 0))).scalar_one()
        ids = list(range(start + 1, start + 1 + count))
    else:
        ids = list(
            conn.execute(
                text("SELECT nextval('customers_id_seq') FROM generate_series(1, :n)"),
                {"n": count},
            ).scalars()
        )
    stamp = raw.timestamp_writer(conn)(now)
    columns = ("id", "traits", "preferences", "consent", "created_at", "updated_at")
    raw.insert_rows(
        conn, "customers", columns, [(cid, "{}", "{}", "{}", stamp, stamp) for cid in ids]
    )
    return ids


def _snapshot(row: Any, identities: list[dict[str, str]]) -> dict[str, Any]:
    data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row._mapping.items()}
    data["identities"] = identities
    return data


def merge(
    conn: Connection, *, survivor_id: int, merged_ids: list[int], now: datetime, reason: str
) -> None:
    """Move everything of `merged_ids` onto `survivor_id` and record the merge.

    Events and identities move (the survivor was last seen at the later of the moments);
    traits combine (the more recently updated profile wins a disagreement); consent combines
    with the more restrictive answer winning; the merged profiles stay as rows pointing at the
    survivor, with a snapshot in `customer_merges`.
    """
    ids = [survivor_id, *merged_ids]
    rows = {r.id: r for r in conn.execute(select(customers_t).where(customers_t.c.id.in_(ids)))}
    idents: dict[int, list[dict[str, str]]] = {cid: [] for cid in merged_ids}
    stmt = select(identities_t.c.customer_id, identities_t.c.kind, identities_t.c.value)
    for cid, kind, value in conn.execute(stmt.where(identities_t.c.customer_id.in_(merged_ids))):
        idents[cid].append({"kind": kind, "value": value})
    ordered = sorted(rows.values(), key=lambda r: r.updated_at)
    traits: dict[str, Any] = {}
    preferences: dict[str, Any] = {}
    consent: dict[str, Any] = {}
    for row in ordered:
        traits.update(row.traits or {})
        preferences.update(row.preferences or {})
        consent = merge_consent(consent, row.consent or {})
    name = next((r.name for r in reversed(ordered) if r.name), None)
    c = customers_t.c
    conn.execute(
        update(events_t)
        .where(events_t.c.customer_id.in_(merged_ids))
        .values(customer_id=survivor_id)
    )
    for table in (identities_t, negatives_t, stage_changes_t):
        conn.execute(
            update(table).where(table.c.customer_id.in_(merged_ids)).values(customer_id=survivor_id)
        )
    conn.execute(
        update(customers_t)
        .where(c.merged_into_id.in_(merged_ids))
        .values(merged_into_id=survivor_id)
    )
    conn.execute(
        update(customers_t)
        .where(c.id.in_(merged_ids))
        .values(merged_into_id=survivor_id, merged_at=now, updated_at=now, last_seen_at=None)
    )  # their events are the survivor's now (the snapshot keeps when they were last seen)
    conn.execute(update(customers_t).where(c.id == survivor_id).values(
        name=name, traits=traits, preferences=preferences, consent=consent, updated_at=now,
        pulse_key=key_sum(r.pulse_key for r in ordered),
        pulse_investments=sum(r.pulse_investments for r in ordered),
        pulse_returns=sum(r.pulse_returns for r in ordered),
        open_negatives=sum(r.open_negatives for r in ordered),
        last_return_at=max((r.last_return_at for r in ordered if r.last_return_at), default=None),
        last_seen_at=max((r.last_seen_at for r in ordered if r.last_seen_at), default=None),
        detractor=ordered[-1].detractor,
    ))  # fmt: skip
    conn.execute(
        insert(merges_t),
        [
            {"survivor_id": survivor_id, "merged_id": cid, "merged_at": now,
             "message_id": reason, "snapshot": _snapshot(rows[cid], idents[cid])}
            for cid in merged_ids
        ],
    )  # fmt: skip
