"""The bandit's counts per (offer, segment): written by one upsert, read through a copy kept
per process and segment.

`counts` reads a segment's counts (one query) at most once a `TTL` per process, as arrays in
the catalogue's order; in between, the process adds its own `bump`s to its copy, so its own
exposures and answers count at once, and other processes' within a second. A copy is read
again as soon as the catalogue changed, the request's `now` moved by a second or more (a
clock given by the caller, as tests and back-fills do), or `forget` was called. A bump in a
transaction that rolls back stays in the copy until its next read (a second at most).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
from sqlalchemy import Connection, Table, select, text

from hxpulse.offers.catalogue import Catalogue
from hxpulse.offers.models import OfferArm

TTL = 1.0  # seconds a process serves from its copy of a segment's counts
arms_t = cast(Table, OfferArm.__table__)
clock = time.monotonic  # replaceable by tests


@dataclass(slots=True)
class _Copy:
    catalogue: Catalogue
    read_at: float  # clock()
    now: datetime  # the request's now when read
    shown: np.ndarray
    accepted: np.ndarray


_COPIES: dict[tuple[str, str], _Copy] = {}  # (database, segment) -> its counts
_LOCK = threading.Lock()


def forget() -> None:
    """Drop every copy (the next request reads the counts)."""
    with _LOCK:
        _COPIES.clear()


def counts(
    conn: Connection, catalogue: Catalogue, segment: str, now: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Times shown and accepted of each offer of `catalogue` in `segment` (read-only arrays)."""
    where = (str(conn.engine.url), segment[:40])
    with _LOCK:
        kept = _COPIES.get(where)
    if (
        kept is not None
        and kept.catalogue is catalogue
        and clock() - kept.read_at < TTL
        and abs((now - kept.now).total_seconds()) < 1.0
    ):
        return kept.shown, kept.accepted
    read_at = clock()
    shown = np.zeros(len(catalogue.rows))
    accepted = np.zeros(len(catalogue.rows))
    a = arms_t.c
    rows = conn.execute(select(a.offer_id, a.shown, a.accepted).where(a.segment == where[1]))
    position = catalogue.position
    for offer_id, times, took in rows:
        if (i := position.get(offer_id)) is not None:
            shown[i], accepted[i] = times, took
    with _LOCK:
        _COPIES[where] = _Copy(catalogue, read_at, now, shown, accepted)
    return shown, accepted


def bump(
    conn: Connection, pairs: list[tuple[int, str]], *, shown: int = 0, accepted: int = 0
) -> None:
    """Add to the bandit's counts of (offer, segment) pairs (in key order: concurrent
    requests lock the rows in the same order), and to this process's copies."""
    if not pairs:
        return
    conn.execute(BUMP, [{"offer_id": o, "segment": seg[:40], "shown": shown,
                         "accepted": accepted} for o, seg in sorted(pairs)])  # fmt: skip
    database = str(conn.engine.url)
    with _LOCK:
        for offer_id, segment in pairs:
            kept = _COPIES.get((database, segment[:40]))
            if kept is None or (i := kept.catalogue.position.get(offer_id)) is None:
                continue
            kept.shown[i] += shown
            kept.accepted[i] += accepted


# one statement both databases read alike (ON CONFLICT: SQLite 3.24, PostgreSQL 9.5)
BUMP = text(
    "INSERT INTO offer_arms (offer_id, segment, shown, accepted)"
    " VALUES (:offer_id, :segment, :shown, :accepted)"
    " ON CONFLICT (offer_id, segment) DO UPDATE SET shown = offer_arms.shown + excluded.shown,"
    " accepted = offer_arms.accepted + excluded.accepted"
)
