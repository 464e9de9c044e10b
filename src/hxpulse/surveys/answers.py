"""One customer's survey answers, newest first: the score, its band and the why, as the
customer page and `GET /api/customers/{ref}` show them."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, func, or_, select

from hxpulse.customers.models import Customer
from hxpulse.surveys.models import Response, Survey

responses_t = cast(Table, Response.__table__)
surveys_t = cast(Table, Survey.__table__)
customers_t = cast(Table, Customer.__table__)


def for_customer(conn: Connection, customer_id: int, *, limit: int = 50) -> dict[str, Any]:
    """The latest `limit` answers of the customer and of the profiles merged into it (a merge
    leaves answers where they were), and how many there are in all (`answer_count`)."""
    r, s, c = responses_t.c, surveys_t.c, customers_t.c
    owners = select(c.id).where(or_(c.id == customer_id, c.merged_into_id == customer_id))
    mine = r.customer_id.in_(owners)
    count = int(
        conn.execute(select(func.count()).select_from(responses_t).where(mine)).scalar_one()
    )
    rows = conn.execute(
        select(s.name.label("survey"), s.kind, r.score, r.band, r.why, r.flagged,
               r.answered_at, r.channel, r.department, r.touchpoint)
        .join(surveys_t, s.id == r.survey_id)
        .where(mine)
        .order_by(r.answered_at.desc(), r.id.desc())
        .limit(limit)
    )  # fmt: skip
    return {"answers": [dict(row._mapping) for row in rows], "answer_count": count}
