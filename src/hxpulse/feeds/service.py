"""The live feeds: publish a message, read what came after an id, and the customers' tokens.

A message is one row of `feed_messages`; its id is the SSE event id, so a subscriber that
reconnects with `Last-Event-ID` reads every message after it, from any server process. On
PostgreSQL, ids come from a sequence in insert order but become visible in commit order: a
reader could see 11 before 10 commits and skip 10 for ever. `publish` therefore takes one
transaction-scoped advisory lock before it inserts, so messages commit in id order (the
handlers publish in short transactions of their own: the lock is held for one insert). On
SQLite the single writer gives the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, Table, delete, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from hxpulse.cases import teams
from hxpulse.customers.queries import live_names
from hxpulse.db.engine import is_sqlite
from hxpulse.errors import Invalid
from hxpulse.feeds.models import SCOPES, FeedMessage
from hxpulse.web.signed import MAX_TOKEN, LinkError

messages_t = cast(Table, FeedMessage.__table__)
TOKEN_SALT = "hxpulse.customer-feed"  # apart from sessions, survey and preference links
TOKEN_TTL = timedelta(minutes=15)
PUBLISH_LOCK = 0x68787075_6C736501  # pg_advisory_xact_lock key of feed publishing
MAX_TYPE = 100
# the team feed's message types the page shows (others are kept and streamed all the same)
TEAM_TYPES = ("case.opened", "case.assigned", "case.breached", "case.resolved", "case.reopened",
              "customer.at_risk", "rule.fired", "message")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    """A customer's live-feed token and the moment it stops working."""

    token: str
    customer_id: int
    expires_at: datetime


def publish(
    conn: Connection,
    *,
    key: str,
    scope: str,
    type: str,
    data: dict[str, Any],
    now: datetime,
    customer_id: int | None = None,
    team: str | None = None,
) -> int:
    """Write one message in the caller's transaction (keep it short: see the module); return
    its id. A second message with the same `key` is not written: the first one's id is."""
    if scope not in SCOPES:
        raise Invalid(f"scope: a feed is one of {', '.join(SCOPES)}, not {scope[:40]!r}",
                      errors=[{"field": "scope", "message": "unknown scope"}])  # fmt: skip
    if scope == "customer" and customer_id is None:
        raise Invalid("customer_id: a customer's feed message names its customer",
                      errors=[{"field": "customer_id", "message": "missing"}])  # fmt: skip
    if not type or len(type) > MAX_TYPE or any(ch in type for ch in "\r\n"):
        raise Invalid(f"type: 1 to {MAX_TYPE} characters on one line",
                      errors=[{"field": "type", "message": "not a message type"}])  # fmt: skip
    found = _by_key(conn, key)
    if found is not None:
        return found
    if not is_sqlite(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK})
    row = {"key": key, "scope": scope, "customer_id": customer_id if scope == "customer" else None,
           "team": team if scope == "team" else None, "type": type, "data": data,
           "created_at": now}  # fmt: skip
    dialect = sqlite if is_sqlite(conn) else postgresql
    conn.execute(dialect.insert(messages_t).values(row).on_conflict_do_nothing())
    made = _by_key(conn, key)
    assert made is not None
    return made


def _by_key(conn: Connection, key: str) -> int | None:
    found = conn.execute(select(messages_t.c.id).where(messages_t.c.key == key)).scalar()
    return int(found) if found is not None else None


def latest_id(conn: Connection) -> int:
    """The id of the newest message of any feed (0 when there is none): where a new
    subscriber without `Last-Event-ID` starts."""
    return int(conn.execute(select(func.coalesce(func.max(messages_t.c.id), 0))).scalar_one())


def since(
    conn: Connection,
    *,
    scope: str,
    after: int,
    limit: int = 100,
    customer_id: int | None = None,
    teams: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The messages of one feed with an id above `after`, oldest first, at most `limit`: a
    customer's (`customer_id`), or the team feed's for someone in `teams` (messages for
    everyone, `team` null, and those of the teams named)."""
    m = messages_t.c
    query = select(m.id, m.type, m.data, m.team, m.customer_id, m.created_at).where(
        m.scope == scope, m.id > after
    )
    if scope == "customer":
        query = query.where(m.customer_id == customer_id)
    else:
        query = query.where(or_(m.team.is_(None), m.team.in_(teams or [])))
    rows = conn.execute(query.order_by(m.id).limit(limit))
    return [dict(row._mapping) for row in rows]


def since_any(conn: Connection, *, after: int, limit: int) -> list[dict[str, Any]]:
    """The messages of every feed with an id above `after`, oldest first, at most `limit`."""
    m = messages_t.c
    rows = conn.execute(
        select(m.id, m.scope, m.type, m.data, m.team, m.customer_id, m.created_at)
        .where(m.id > after)
        .order_by(m.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def matches(
    row: dict[str, Any],
    *,
    scope: str,
    customer_id: int | None = None,
    teams: list[str] | None = None,
) -> bool:
    """Whether `row` (of `since_any`) belongs to the feed `since` reads with the same terms."""
    if row["scope"] != scope:
        return False
    if scope == "customer":
        return bool(row["customer_id"] == customer_id)
    return row["team"] is None or row["team"] in (teams or [])


def recent(
    conn: Connection, *, teams: list[str] | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest team-feed messages someone in `teams` sees, newest first (for the page)."""
    m = messages_t.c
    rows = conn.execute(
        select(m.id, m.type, m.data, m.team, m.customer_id, m.created_at)
        .where(m.scope == "team", or_(m.team.is_(None), m.team.in_(teams or [])))
        .order_by(m.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def named(conn: Connection, rows: list[dict[str, Any]], *, sees_customers: bool
          ) -> list[dict[str, Any]]:  # fmt: skip
    """The team-feed `rows` as staff are shown them: a message whose data names a customer
    (`customer_id`) gets the profile it lives on now (merges followed) as `customer_id` and
    that profile's current name as `customer_name`, read now for all the rows at once, so a
    renamed or erased customer shows as they are now (the name is never stored in the
    message). For a reader who may not see customers (`sees_customers` false), both are left
    out. The rows are copies: `rows` (maybe held by `recent.Recent`) are left as they are."""
    wanted = sorted({cid for row in rows if (cid := _customer_of(row["data"])) is not None})
    found = live_names(conn, wanted) if sees_customers and wanted else {}
    shown = []
    for row in rows:
        data = row["data"]
        if not isinstance(data, dict) or "customer_id" not in data:
            shown.append(row)
            continue
        cid = _customer_of(data)
        data = {k: v for k, v in data.items() if k != "customer_name"}
        if not sees_customers:
            del data["customer_id"]
        elif cid is not None and cid in found:
            data["customer_id"], data["customer_name"] = found[cid]
        shown.append({**row, "data": data})
    return shown


def _customer_of(data: Any) -> int | None:
    """The customer id a message's data names, if it names one (an id, not a bool or text)."""
    cid = data.get("customer_id") if isinstance(data, dict) else None
    return cid if type(cid) is int and cid >= 1 else None


def for_customers(conn: Connection, customer_ids: list[int]) -> list[dict[str, Any]]:
    """The customers' own feed messages, oldest first (for their export)."""
    m = messages_t.c
    rows = conn.execute(
        select(m.id, m.type, m.data, m.created_at)
        .where(m.scope == "customer", m.customer_id.in_(customer_ids))
        .order_by(m.id)
    )
    return [dict(row._mapping) for row in rows]


def erase(conn: Connection, customer_ids: list[int]) -> int:
    """Delete the customers' own feed messages; return how many went."""
    m = messages_t.c
    done = conn.execute(delete(messages_t).where(m.customer_id.in_(customer_ids)))
    return int(done.rowcount)


def token_for(secret: str, customer_id: int, *, now: datetime, ttl: timedelta = TOKEN_TTL) -> Token:
    """A token that lets a browser follow `customer_id`'s feed until `now + ttl`. It signs the
    id and the expiry with the server's secret under a salt of its own."""
    expires = int((now + ttl).timestamp())
    signed = URLSafeSerializer(secret, salt=TOKEN_SALT).dumps([customer_id, expires])
    return Token(signed, customer_id, datetime.fromtimestamp(expires, UTC))


def check(secret: str, token: str, *, now: datetime) -> Token:
    """The customer `token` was issued for; raises LinkError("forged" | "expired")."""
    if len(token) > MAX_TOKEN:
        raise LinkError("forged")
    try:
        value = URLSafeSerializer(secret, salt=TOKEN_SALT).loads(token)
    except BadSignature:
        raise LinkError("forged") from None
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and value[0] >= 1):  # fmt: skip
        raise LinkError("forged")
    expires_at = datetime.fromtimestamp(value[1], UTC)
    if now >= expires_at:
        raise LinkError("expired")
    return Token(token, value[0], expires_at)


def _teams_of(conn: Connection, user_id: int) -> list[str]:
    """The names of the teams person `user_id` belongs to (the cases domain's teams)."""
    return sorted(teams.names(conn, teams.team_ids_of(conn, user_id)).values())


def teams_for(conn: Connection, *, actor_kind: str, actor_id: int) -> list[str]:
    """The teams whose messages an actor of the team feed sees besides everyone's: a person's
    own teams; a key (a program of the business) belongs to none."""
    return _teams_of(conn, actor_id) if actor_kind == "user" else []
