"""Signing in and out: the throttle, the password check, the session and the audit log.

A sign-in is three short steps, so the slow password hash never runs inside a write
transaction (on SQLite that would hold up every writer): (1) in a write transaction, refuse a
locked account or address and count the attempt as a failure; (2) check the password on a
read connection; (3) if it was right, in a write transaction, clear the account's failures,
open the session and record it; if not, record a lock that this failure started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.auth import service as auth
from hxpulse.auth import sessions, throttle
from hxpulse.db.engine import run_write


def person(user: dict[str, Any], address: str | None = None) -> Who:
    """The audit log's name for a signed-in person (as `Actor.label` has it)."""
    return Who("user", int(user["id"]), f"user {user['id']} ({user['email']})", address)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a sign-in is tried with, and from where."""

    email: str
    password: str
    address: str
    user_agent: str | None = None


def sign_in(
    engine: Engine,
    attempt: Attempt,
    *,
    now: datetime,
    policy: throttle.Policy,
    lifetimes: sessions.Lifetimes,
) -> tuple[dict[str, Any], str] | None:
    """Return the person and a new session's token, or None for a wrong email or password
    (counted against the account and the address); a locked one raises TooManyRequests."""
    account = throttle.account_of(attempt.email)

    def count(conn: Connection) -> int:
        throttle.check(conn, account=account, address=attempt.address, now=now, policy=policy)
        return throttle.record_failure(
            conn, account=account, address=attempt.address, now=now, policy=policy
        )

    run_write(engine, count)
    with engine.connect() as conn:
        user = auth.authenticate(conn, email=attempt.email, password=attempt.password)
    if user is None:
        run_write(engine, lambda conn: _failed(conn, account, attempt.address, now, policy))
        return None
    token = run_write(engine, lambda conn: _succeeded(conn, user, account, attempt, now, lifetimes))
    return user, token


def _failed(
    conn: Connection, account: str, address: str, now: datetime, policy: throttle.Policy
) -> None:
    if throttle.just_locked(conn, account=account, now=now, policy=policy):
        audit.record(conn, who=Who("system", None, "sign-in throttle", address),
                     action="signin.locked", now=now, subject_kind="account",
                     subject_id=account[:64])  # fmt: skip


def _succeeded(
    conn: Connection,
    user: dict[str, Any],
    account: str,
    attempt: Attempt,
    now: datetime,
    lifetimes: sessions.Lifetimes,
) -> str:
    throttle.clear_account(conn, account=account)
    auth.signed_in(conn, user_id=int(user["id"]), now=now)
    token = sessions.start(conn, user_id=int(user["id"]), now=now, lifetimes=lifetimes,
                           address=attempt.address, user_agent=attempt.user_agent)  # fmt: skip
    audit.record(conn, who=person(user, attempt.address), action="session.create", now=now,
                 subject_kind="user", subject_id=int(user["id"]))  # fmt: skip
    return token


def sign_out(conn: Connection, *, session_id: str, who: Who, now: datetime) -> None:
    """End the session `session_id` (the current one) and record it."""
    if sessions.revoke(conn, session_id, now=now):
        audit.record(conn, who=who, action="session.revoke", now=now, subject_kind="user",
                     subject_id=who.id)  # fmt: skip
