"""The customer list: live customers filtered by text and stage, sorted by name, pulse, creation
or last activity, a page at a time with the total matching; for the page, the JSON list and
the tests alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, or_, select

from hxpulse.customers import params
from hxpulse.customers.service import customers_t, events_t, identities_t

KEYS = ("name", "pulse", "created", "last_activity")
SORTS = tuple(s for key in KEYS for s in (key, f"-{key}"))  # `-`: descending
DEFAULT_SORT = "-created"
MAX_Q = 320  # an email's length
MAX_PAGE = 100_000
MAX_PER_PAGE = 200
PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the list shows: `q` matches the name or any identity (email, phone, user id, …)."""

    q: str = ""
    stage: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PER_PAGE

    def link(self, **changes: Any) -> dict[str, str]:
        """The query string of this list with `changes` (a sort starts again at page 1),
        leaving out what is the default."""
        if "sort" in changes:
            changes.setdefault("page", 1)
        wanted, default = asdict(replace(self, **changes)), asdict(ListQuery())
        return {k: str(v) for k, v in wanted.items() if v and v != default[k]}


def parse(
    *,
    stages: Sequence[str],
    q: str | None = None,
    stage: str | None = None,
    sort: str | None = None,
    page: str | None = None,
    per_page: str | None = None,
) -> ListQuery:
    """Check the list's parameters as typed in an address; one Invalid names every bad one."""
    problems: params.Problems = []
    text = (q or "").strip()
    if len(text) > MAX_Q or "\x00" in text:
        problems.append({"field": "q", "message": f"at most {MAX_Q} characters, no NUL"})
        text = ""
    chosen = params.choice(problems, "stage", stage, stages, default="") or None
    order = params.choice(problems, "sort", sort, SORTS, default=DEFAULT_SORT)
    number = params.whole(problems, "page", page, default=1, low=1, high=MAX_PAGE)
    size = params.whole(problems, "per_page", per_page, default=PER_PAGE, low=1,
                        high=MAX_PER_PAGE)  # fmt: skip
    params.check(problems)
    return ListQuery(q=text, stage=chosen, sort=order, page=number, per_page=size)


def _way(column: Any, descending: bool) -> ColumnElement[Any]:
    ordered: ColumnElement[Any] = column.desc() if descending else column.asc()
    return ordered


def _order(sort: str) -> list[ColumnElement[Any]]:
    """The ORDER BY of `sort`: customers without a name come last either way, the id breaks
    ties (so pages never overlap). For last activity, the order among customers seen at least
    once (`_page` puts the others after them)."""
    c = customers_t.c
    key, descending = sort.removeprefix("-"), sort.startswith("-")
    if key == "name":
        keys = [c.name.is_(None), _way(func.lower(c.name), descending)]
    elif key == "pulse":  # ordering by the stored key is ordering by the pulse now
        keys = [_way(c.pulse_key, descending)]
    elif key == "created":
        keys = [_way(c.created_at, descending)]
    else:
        keys = [_way(c.last_seen_at, descending)]
    return [*keys, _way(c.id, descending)]


def _page(conn: Connection, stmt: Select[Any], sort: str, offset: int, limit: int) -> list[Any]:
    """The rows of one page of `stmt` in the order of `sort`.

    By last activity: first the customers seen, by `last_seen_at` then id, then those never
    seen, by id, either way; two range reads of `ix_customers_last_seen_at_id`. (One ORDER BY
    `last_seen_at DESC NULLS LAST` would sort every customer on PostgreSQL: its index keeps
    the nulls after the latest moment, so read backwards they come first.)"""
    if sort.removeprefix("-") != "last_activity":
        return list(conn.execute(stmt.order_by(*_order(sort)).limit(limit).offset(offset)))
    c = customers_t.c
    seen = stmt.where(c.last_seen_at.is_not(None))
    rows = list(conn.execute(seen.order_by(*_order(sort)).limit(limit).offset(offset)))
    if len(rows) == limit:
        return rows
    if rows or offset == 0:
        before = offset + len(rows)  # the seen customers end on this page
    else:  # a page past all of them: how many there are
        before = conn.execute(select(func.count()).select_from(seen.subquery())).scalar_one()
    never = stmt.where(c.last_seen_at.is_(None)).order_by(_way(c.id, sort.startswith("-")))
    rest = conn.execute(never.limit(limit - len(rows)).offset(max(0, offset - before)))
    return [*rows, *rest]


def _matching(query: ListQuery) -> Select[Any]:
    c, i = customers_t.c, identities_t.c
    stmt = select(c.id, c.name, c.created_at, c.stage, c.pulse_key, c.last_return_at,
                  c.open_negatives, c.detractor, c.last_seen_at)  # fmt: skip
    stmt = stmt.where(c.merged_into_id.is_(None))
    if query.q:
        escaped = query.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        matching = select(i.customer_id).where(func.lower(i.value).like(pattern, escape="\\"))
        stmt = stmt.where(or_(c.id.in_(matching), func.lower(c.name).like(pattern, escape="\\")))
    if query.stage is not None:
        stmt = stmt.where(c.stage == query.stage)
    return stmt


def search(conn: Connection, query: ListQuery) -> dict[str, Any]:
    """One page of the live customers `query` selects, with how many match in all."""
    stmt = _matching(query)
    total = int(conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())
    offset = (query.page - 1) * query.per_page
    rows = _page(conn, stmt, query.sort, offset, query.per_page)
    items = [dict(r._mapping) for r in rows]
    _attach_summary(conn, items)
    return {
        "items": items,
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "pages": max(1, -(-total // query.per_page)),
        "has_next": offset + len(items) < total,
        "q": query.q,
        "stage": query.stage,
        "sort": query.sort,
    }


def _attach_summary(conn: Connection, items: list[dict[str, Any]]) -> None:
    """Each item's event count and identities (its `last_seen_at` is the row's)."""
    ids = [item["id"] for item in items]
    if not ids:
        return
    e, i = events_t.c, identities_t.c
    stats = conn.execute(
        select(e.customer_id, func.count()).where(e.customer_id.in_(ids)).group_by(e.customer_id)
    )
    by_id: dict[int, int] = {cid: n for cid, n in stats}
    idents: dict[int, list[dict[str, str]]] = {}
    for cid, kind, value in conn.execute(
        select(i.customer_id, i.kind, i.value).where(i.customer_id.in_(ids)).order_by(i.id)
    ):
        idents.setdefault(cid, []).append({"kind": kind, "value": value})
    for item in items:
        item["event_count"] = by_id.get(item["id"], 0)
        item["identities"] = idents.get(item["id"], [])
