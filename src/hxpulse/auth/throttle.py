"""Sign-in throttling: failed sign-ins are rows of `signin_failures`, counted per account and per
client address over a sliding window, so the limits hold across processes and restarts.

While an account (or an address) has `limit` failures within the window, sign-ins for it are
refused without checking the password, and refused attempts are not counted: the lock ends
when the oldest of those failures leaves the window, whatever an attacker keeps sending.
Each attempt is counted as a failure before its password is checked, and a successful sign-in
then clears the failures recorded against its account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, delete, func, insert, select

from hxpulse.auth.models import SigninFailure
from hxpulse.customers.identity import normalise_email
from hxpulse.errors import Invalid, TooManyRequests

failures_t = cast(Table, SigninFailure.__table__)


@dataclass(frozen=True, slots=True)
class Policy:
    """At most `per_account` and `per_address` failures within `window`."""

    per_account: int = 10
    per_address: int = 50
    window: timedelta = timedelta(minutes=15)


def account_of(email: str) -> str:
    """The account a sign-in names: the normalised email, or the text as typed (lowercase)."""
    try:
        return normalise_email(email)
    except Invalid:
        return email.strip().lower()[:320]


def _lock_ends(
    conn: Connection, column: str, value: str, limit: int, now: datetime, window: timedelta
) -> datetime | None:
    """When the lock on `column = value` ends, or None when it is not locked now."""
    col = failures_t.c[column]
    moments = conn.execute(
        select(failures_t.c.at)
        .where(col == value, failures_t.c.at > now - window)
        .order_by(failures_t.c.at.desc())
        .limit(limit)
    ).scalars().all()  # fmt: skip
    return moments[-1] + window if len(moments) >= limit else None


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def check(conn: Connection, *, account: str, address: str, now: datetime, policy: Policy) -> None:
    """Refuse (429 with the seconds to wait) a sign-in for a locked account or address."""
    for column, value, limit, whose in (
        ("account", account, policy.per_account, "for this account"),
        ("address", address, policy.per_address, "from your address"),
    ):
        ends = _lock_ends(conn, column, value, limit, now, policy.window)
        if ends is not None:
            wait = (ends - now).total_seconds()
            raise TooManyRequests(
                f"Too many failed sign-ins {whose}; try again in {_minutes(wait)}.",
                retry_after=math.ceil(wait),
            )


def record_failure(
    conn: Connection, *, account: str, address: str, now: datetime, policy: Policy
) -> int:
    """Count one failed sign-in (before the password is checked, so that concurrent attempts
    cannot pass the limit); return its id."""
    conn.execute(delete(failures_t).where(failures_t.c.at <= now - policy.window))
    failure_id: int = conn.execute(
        insert(failures_t).returning(failures_t.c.id),
        {"at": now, "account": account, "address": address[:64]},
    ).scalar_one()
    return failure_id


def just_locked(conn: Connection, *, account: str, now: datetime, policy: Policy) -> bool:
    """Whether the account has exactly reached its limit now (the failure that locks it)."""
    count = conn.execute(
        select(func.count()).where(
            failures_t.c.account == account, failures_t.c.at > now - policy.window
        )
    ).scalar_one()
    return int(count) == policy.per_account


def clear_account(conn: Connection, *, account: str) -> None:
    """Forget the failures recorded against an account (after it signed in)."""
    conn.execute(delete(failures_t).where(failures_t.c.account == account))
