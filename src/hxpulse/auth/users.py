"""Managing people: list, change role, disable and enable, set or reset passwords, end sessions.

Every change is recorded in the audit log in its own transaction. Disabling a person or
changing their password ends their sessions at once. The last active admin can be neither
demoted nor disabled (on PostgreSQL the active admins are locked first, so two admins demoting
each other at the same moment cannot both succeed; SQLite writers are serialised anyway).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, update

from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.auth import service as auth
from hxpulse.auth import sessions
from hxpulse.auth.models import User
from hxpulse.errors import Conflict, Invalid, NotFound

users_t = cast(Table, User.__table__)
sessions_t = sessions.sessions_t
COLUMNS = (users_t.c.id, users_t.c.email, users_t.c.name, users_t.c.role, users_t.c.active,
           users_t.c.created_at, users_t.c.last_login_at)  # fmt: skip


FIRST_ADMIN = "hxpulse users create EMAIL --role admin"  # the command that makes the first one


def no_users(conn: Connection) -> bool:
    """Whether there is no person at all (then no one can sign in)."""
    return conn.execute(select(users_t.c.id).limit(1)).first() is None


def first_admin_hint(conn: Connection) -> str | None:
    """The line `hxpulse serve` prints when no one can sign in yet, or None when people exist."""
    if not no_users(conn):
        return None
    return (
        f"No one can sign in yet: there are no users. Create the first admin with "
        f"`{FIRST_ADMIN}` (on this database: the same --db or HXPULSE_DATABASE_URL; it asks "
        "for the password)."
    )


def new_password() -> str:
    """A password to hand to a person (16 characters, 96 bits)."""
    return secrets.token_urlsafe(12)


def list_users(conn: Connection, *, now: datetime) -> list[dict[str, Any]]:
    """Every person (never a password hash) with the number of sessions open now."""
    open_now = (
        select(func.count())
        .where(sessions_t.c.user_id == users_t.c.id, sessions_t.c.revoked_at.is_(None),
               sessions_t.c.expires_at > now)
        .scalar_subquery()
    )  # fmt: skip
    rows = conn.execute(select(*COLUMNS, open_now.label("sessions")).order_by(users_t.c.id))
    return [dict(row._mapping) for row in rows]


def get(conn: Connection, user_id: int) -> dict[str, Any]:
    """One person by id, or 404."""
    row = conn.execute(select(*COLUMNS).where(users_t.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"there is no user {user_id}")
    return dict(row._mapping)


def find(conn: Connection, ref: str) -> dict[str, Any]:
    """One person by email or id (`3`, `ana@example.com`), or 404."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit() and len(ref) < 19:
        return get(conn, int(ref))
    row = conn.execute(select(*COLUMNS).where(users_t.c.email == ref.lower())).first()
    if row is None:
        raise NotFound(f"there is no user {ref!r}")
    return dict(row._mapping)


def _keep_an_admin(conn: Connection, user: dict[str, Any], change: str) -> None:
    """Refuse to take away the last active admin."""
    if user["role"] != "admin" or not user["active"]:
        return
    query = select(users_t.c.id).where(users_t.c.role == "admin", users_t.c.active.is_(True))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    admins = conn.execute(query).scalars().all()
    if [i for i in admins if i != user["id"]]:
        return
    raise Conflict(f"{user['email']} is the last active admin: make another admin before {change}")


def set_role(conn: Connection, *, user_id: int, role: str, who: Who, now: datetime) -> bool:
    """Give the person `role`; False when it was theirs already."""
    auth.check_role(role)
    user = get(conn, user_id)
    if user["role"] == role:
        return False
    if role != "admin":
        _keep_an_admin(conn, user, "demoting them")
    conn.execute(update(users_t).where(users_t.c.id == user_id).values(role=role))
    audit.record(conn, who=who, action="user.role", now=now, subject_kind="user",
                 subject_id=user_id, detail={"from": user["role"], "to": role})  # fmt: skip
    return True


def set_active(conn: Connection, *, user_id: int, active: bool, who: Who, now: datetime) -> bool:
    """Enable or disable the person (disabling ends their sessions); False when unchanged."""
    user = get(conn, user_id)
    if user["active"] == active:
        return False
    if not active:
        _keep_an_admin(conn, user, "disabling them")
    conn.execute(update(users_t).where(users_t.c.id == user_id).values(active=active))
    ended = 0 if active else sessions.revoke_all(conn, user_id=user_id, now=now)
    action = "user.enable" if active else "user.disable"
    detail = None if active else {"sessions_ended": ended}
    audit.record(conn, who=who, action=action, now=now, subject_kind="user", subject_id=user_id,
                 detail=detail)  # fmt: skip
    return True


def _set_password(
    conn: Connection, user_id: int, password: str, who: Who, now: datetime, how: str
) -> int:
    password_hash = auth.hash_password(password)
    conn.execute(update(users_t).where(users_t.c.id == user_id).values(password_hash=password_hash))
    ended = sessions.revoke_all(conn, user_id=user_id, now=now)
    audit.record(conn, who=who, action="user.password", now=now, subject_kind="user",
                 subject_id=user_id, detail={"how": how, "sessions_ended": ended})  # fmt: skip
    return ended


def reset_password(
    conn: Connection, *, user_id: int, password: str | None, who: Who, now: datetime
) -> str:
    """Set a new password (a generated one when None) and end the person's sessions; return the
    password, to be handed to the person."""
    get(conn, user_id)
    chosen = password if password is not None else new_password()
    _set_password(conn, user_id, chosen, who, now, "reset")
    return chosen


def change_password(
    conn: Connection, *, user_id: int, current: str, new: str, who: Who, now: datetime
) -> None:
    """The person's own change: `current` must be right. Ends all their sessions."""
    found = conn.execute(
        select(users_t.c.password_hash).where(users_t.c.id == user_id, users_t.c.active.is_(True))
    ).scalar()
    if found is None or not auth.password_matches(found, current):
        raise Invalid(
            "the current password is not right",
            errors=[{"field": "current", "message": "not your current password"}],
        )
    if new == current:
        raise Invalid(
            "the new password is the current one",
            errors=[{"field": "password", "message": "choose a different password"}],
        )
    _set_password(conn, user_id, new, who, now, "changed")


def sign_out_everywhere(conn: Connection, *, user_id: int, who: Who, now: datetime) -> int:
    """End every session of the person; return how many were open."""
    get(conn, user_id)
    ended = sessions.revoke_all(conn, user_id=user_id, now=now)
    audit.record(conn, who=who, action="session.revoke_all", now=now, subject_kind="user",
                 subject_id=user_id, detail={"sessions_ended": ended})  # fmt: skip
    return ended
