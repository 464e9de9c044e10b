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


def _last_seen() -> Any:
    e, c = events_t.c, customers_t.c
    return select(func.max(e.occurred_at)).where(e.customer_id == c.id).scalar_subquery()


def _order(sort: str) -> list[ColumnElement[Any]]:
    """The ORDER BY of `sort`: customers without a name or a touchpoint come last either way,
    the id breaks ties (so pages never overlap)."""
    c = customers_t.c
    key, descending = sort.removeprefix("-"), sort.startswith("-")

    def way(column: Any) -> ColumnElement[Any]:
        ordered: ColumnElement[Any] = column.desc() if descending else column.asc()
        return ordered

    if key == "name":
        keys = [c.name.is_(None), way(func.lower(c.name))]
    elif key == "pulse":  # ordering by the stored key is ordering by the pulse now
        keys = [way(c.pulse_key)]
    elif key == "created":
        keys = [way(c.created_at)]
    else:  # one index seek per customer (`nulls_last`: so the subquery is written once)
        keys = [way(_last_seen()).nulls_last()]
    return [*keys, way(c.id)]


def _matching(query: ListQuery) -> Select[Any]:
    c, i = customers_t.c, identities_t.c
    stmt = select(c.id, c.name, c.created_at, c.stage, c.pulse_key, c.last_return_at,
                  c.open_negatives, c.detractor).where(c.merged_into_id.is_(None))  # fmt: skip
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
    rows = conn.execute(stmt.order_by(*_order(query.sort)).limit(query.per_page).offset(offset))
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
    ids = [item["id"] for item in items]
    if not ids:
        return
    e, i = events_t.c, identities_t.c
    stats = conn.execute(
        select(e.customer_id, func.count(), func.max(e.occurred_at))
        .where(e.customer_id.in_(ids))
        .group_by(e.customer_id)
    ).all()
    by_id = {cid: (n, last) for cid, n, last in stats}
    idents: dict[int, list[dict[str, str]]] = {}
    for cid, kind, value in conn.execute(
        select(i.customer_id, i.kind, i.value).where(i.customer_id.in_(ids)).order_by(i.id)
    ):
        idents.setdefault(cid, []).append({"kind": kind, "value": value})
    for item in items:
        n, last = by_id.get(item["id"], (0, None))
        item["event_count"], item["last_seen_at"] = n, last
        item["identities"] = idents.get(item["id"], [])
