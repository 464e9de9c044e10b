"""Tombstones: erased identities are remembered only as keyed hashes, and ingestion drops every
event that names one, so re-sending an erased person's email or user id does not bring them
back.

The hash is HMAC-SHA256 over the identity's kind and normalised value, keyed with the
instance's tombstone key: a random key generated at the first erasure and kept in the `meta`
table. It is not the session secret, so rotating `secret_key` (which signs cookies and links)
cannot resurrect anyone; and without the key a leaked tombstone table cannot be checked
against a list of emails.

On the hot path (every ingest batch) the cost is one primary-key lookup of `meta` while no one
was ever erased; afterwards the key is cached on the database connection, and each batch
hashes its distinct identities (about a microsecond each) and looks them up in one statement.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select

from hxpulse.auth.models import Meta
from hxpulse.db import raw
from hxpulse.events.schemas import EventIn, IdentityKey
from hxpulse.privacy.models import IdentityTombstone

tombstones_t = cast(Table, IdentityTombstone.__table__)
meta_t = cast(Table, Meta.__table__)
KEY_NAME = "tombstone_key"
_CACHE = "hxpulse.tombstone_key"
# Segment's previousId may turn out to be either (see customers.service.settle_previous_ids)
_PREVIOUS = ("user_id", "anonymous_id")


def _cached_key(conn: Connection) -> bytes | None:
    """The tombstone key, or None while no one was ever erased (then nothing is tombstoned).
    Once found it is kept on the connection: it never changes."""
    info = conn.connection.info
    key = info.get(_CACHE)
    if key is None:
        found = conn.execute(select(meta_t.c.value).where(meta_t.c.key == KEY_NAME)).scalar()
        if found is None:
            return None
        key = info[_CACHE] = str(found).encode()
    return cast(bytes, key)


def ensure_key(conn: Connection) -> bytes:
    """The tombstone key, generated and stored on the first erasure."""
    key = _cached_key(conn)
    if key is not None:
        return key
    value = secrets.token_urlsafe(48)
    conn.execute(insert(meta_t), {"key": KEY_NAME, "value": value})
    conn.connection.info[_CACHE] = value.encode()
    return value.encode()


def digest(key: bytes, kind: str, value: str) -> str:
    """The keyed hash of one normalised identity (hex, 64 characters)."""
    return hmac.digest(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hex()


def _candidates(keys: Iterable[IdentityKey]) -> Iterable[IdentityKey]:
    for kind, value in keys:
        if kind == "previous_id":
            yield from ((k, value) for k in _PREVIOUS)
        else:
            yield kind, value


def drop_erased(conn: Connection, batch: Sequence[EventIn]) -> tuple[list[EventIn], list[str]]:
    """Split `batch` into the events to store and the message ids of those that name an
    erased identity (dropped: the caller counts them as `erased`, so SDKs do not retry)."""
    key = _cached_key(conn)
    if key is None or not batch:
        return list(batch), []
    hashes: dict[IdentityKey, str] = {}
    for item in batch:
        for ident in _candidates(item.identities):
            if ident not in hashes:
                hashes[ident] = digest(key, *ident)
    sql = "SELECT digest FROM identity_tombstones WHERE digest {in}"
    erased = {row[0] for row in raw.select_in(conn, sql, list(set(hashes.values())))}
    if not erased:
        return list(batch), []
    kept: list[EventIn] = []
    dropped: list[str] = []
    for item in batch:
        if any(hashes[ident] in erased for ident in _candidates(item.identities)):
            dropped.append(item.message_id)
        else:
            kept.append(item)
    return kept, dropped


def is_erased(conn: Connection, kind: str, value: str) -> bool:
    """Whether the normalised identity (`kind`, `value`) belongs to an erased customer."""
    key = _cached_key(conn)
    if key is None:
        return False
    found = conn.execute(
        select(tombstones_t.c.digest).where(tombstones_t.c.digest == digest(key, kind, value))
    ).first()
    return found is not None


def bury(conn: Connection, identities: Sequence[IdentityKey], *, now: datetime) -> int:
    """Store the tombstones of `identities` (those already stored are kept); return how many
    identities are now tombstoned."""
    if not identities:
        return 0
    key = ensure_key(conn)
    rows: dict[str, dict[str, Any]] = {}
    for kind, value in identities:
        rows[digest(key, kind, value)] = {"kind": kind, "erased_at": now}
    known = {row[0] for row in raw.select_in(
        conn, "SELECT digest FROM identity_tombstones WHERE digest {in}", list(rows)
    )}  # fmt: skip
    new = [{"digest": d, **row} for d, row in rows.items() if d not in known]
    if new:
        conn.execute(insert(tombstones_t), new)
    return len(rows)
