"""Server-side sessions: the browser's cookie carries a random token, the `user_sessions` table
its SHA-256, so that signing out, "sign out everywhere", disabling a person or changing their
password ends sessions at once, in every process.

A session ends when it is revoked, when it has not been used for `idle` (idle lifetime), at
`expires_at` (absolute lifetime, from sign-in), or when its person is disabled. Looking one up
is one primary-key read joined to its user; `last_seen_at` is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from hxpulse.auth.models import User, UserSession

sessions_t = cast(Table, UserSession.__table__)
users_t = cast(Table, User.__table__)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long a session lasts unused (`idle`) and at most (`absolute`)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class Found:
    """A live session and its person."""

    session_id: str
    user: dict[str, Any]
    last_seen_at: datetime

    def needs_touch(self, now: datetime) -> bool:
        """Whether `last_seen_at` is old enough to be written again."""
        return now - self.last_seen_at >= TOUCH_EVERY


def digest(token: str) -> str:
    """The stored id of the session whose cookie carries `token`."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    conn: Connection,
    *,
    user_id: int,
    now: datetime,
    lifetimes: Lifetimes,
    address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Open a session for `user_id`; return its token (for the cookie, never stored)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(sessions_t),
        {"id": digest(token), "user_id": user_id, "created_at": now, "last_seen_at": now,
         "expires_at": now + lifetimes.absolute, "revoked_at": None,
         "address": address[:64] if address else None,
         "user_agent": user_agent[:400] if user_agent else None},
    )  # fmt: skip
    return token


def lookup(conn: Connection, token: str, *, now: datetime, idle: timedelta) -> Found | None:
    """The live session behind `token` with its active person, or None."""
    row = conn.execute(
        select(sessions_t.c.id, sessions_t.c.last_seen_at, users_t.c.id.label("user_id"),
               users_t.c.email, users_t.c.role, users_t.c.name)
        .join(users_t, users_t.c.id == sessions_t.c.user_id)
        .where(sessions_t.c.id == digest(token), sessions_t.c.revoked_at.is_(None),
               sessions_t.c.expires_at > now, sessions_t.c.last_seen_at > now - idle,
               users_t.c.active.is_(True))
    ).first()  # fmt: skip
    if row is None:
        return None
    user = {"id": row.user_id, "email": row.email, "role": row.role, "name": row.name}
    return Found(row.id, user, row.last_seen_at)


def touch(conn: Connection, session_id: str, *, now: datetime) -> None:
    """Record that the session was used now."""
    conn.execute(update(sessions_t).where(sessions_t.c.id == session_id).values(last_seen_at=now))


def revoke(conn: Connection, session_id: str, *, now: datetime) -> bool:
    """End one session; False when it had ended already."""
    done = conn.execute(
        update(sessions_t)
        .where(sessions_t.c.id == session_id, sessions_t.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return done.rowcount > 0


def revoke_all(conn: Connection, *, user_id: int, now: datetime) -> int:
    """End every session of `user_id`; return how many were still open."""
    done = conn.execute(
        update(sessions_t)
        .where(sessions_t.c.user_id == user_id, sessions_t.c.revoked_at.is_(None),
               sessions_t.c.expires_at > now)
        .values(revoked_at=now)
    )  # fmt: skip
    return done.rowcount


def open_sessions(
    conn: Connection, *, user_id: int, now: datetime, idle: timedelta
) -> list[dict[str, Any]]:
    """The person's live sessions, most recently used first (ids are not secrets: hashes)."""
    rows = conn.execute(
        select(sessions_t.c.id, sessions_t.c.created_at, sessions_t.c.last_seen_at,
               sessions_t.c.expires_at, sessions_t.c.address, sessions_t.c.user_agent)
        .where(sessions_t.c.user_id == user_id, sessions_t.c.revoked_at.is_(None),
               sessions_t.c.expires_at > now, sessions_t.c.last_seen_at > now - idle)
        .order_by(sessions_t.c.last_seen_at.desc())
    )  # fmt: skip
    return [dict(row._mapping) for row in rows]
