"""The advocacy report: promoters, how many were asked, what the asks brought.

Every figure reads events in the period [since, until) and, when given, of one department and
one channel: a promoter is a customer whose last NPS answer in the period is a promoter's; the
ask rate is the share of those promoters with at least one `referral_ask` in the period; the
conversion is attributed referrals / asks, and the share of asked customers who brought at least
one referral. Referred customers' revenue is the sum of their purchases from their referral on.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, func, select

from hxpulse.advocacy.models import Referral
from hxpulse.advocacy.service import ASK
from hxpulse.config import Settings
from hxpulse.customers.models import Customer
from hxpulse.events.models import Event
from hxpulse.journey.funnel import check_filters, parse_range

events_t = cast(Table, Event.__table__)
referrals_t = cast(Table, Referral.__table__)
customers_t = cast(Table, Customer.__table__)
TOP = 10


def query(
    since: str | None, until: str | None, channel: str | None, department: str | None
) -> dict[str, Any]:
    """The report's filters checked (errors name `since`, `until`, `channel`, `department`)."""
    from hxpulse.errors import Invalid

    errors: list[dict[str, Any]] = []
    start = end = None
    try:
        start, end = parse_range(since, until)
    except Invalid as exc:
        names = {"start": "since", "end": "until"}
        errors += [{**e, "field": names.get(e["field"], e["field"])} for e in exc.errors]
    try:
        channel, department = check_filters(channel, department)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return {"since": start, "until": end, "channel": channel, "department": department}


def _scoped(stmt: Select[Any], f: dict[str, Any]) -> Select[Any]:
    e = events_t.c
    if f["since"] is not None:
        stmt = stmt.where(e.occurred_at >= f["since"])
    if f["until"] is not None:
        stmt = stmt.where(e.occurred_at < f["until"])
    if f["channel"] is not None:
        stmt = stmt.where(e.channel == f["channel"])
    if f["department"] is not None:
        stmt = stmt.where(e.department == f["department"])
    return stmt


def promoters(conn: Connection, settings: Settings, f: dict[str, Any]) -> set[int]:
    """Customers whose last NPS answer in the scope is a promoter's."""
    e = events_t.c
    pulse = settings.pulse
    nps = pulse.names_of(settings.journey.nps_events)
    rows = conn.execute(_scoped(
        select(e.customer_id, e.type, e.occurred_at, e.id).where(e.type.in_(nps)), f))  # fmt: skip
    last: dict[int, tuple[Any, int, str]] = {}
    for cid, kind, at, eid in rows:
        if cid not in last or (at, eid) > last[cid][:2]:
            last[cid] = (at, eid, pulse.canonical(kind))
    return {cid for cid, (_, _, kind) in last.items() if kind == "promoter"}


def _asks(conn: Connection, settings: Settings, f: dict[str, Any]) -> Counter[int]:
    e = events_t.c
    names = settings.pulse.names_of([ASK])
    stmt = _scoped(select(e.customer_id, func.count()).where(e.type.in_(names)), f)
    return Counter({int(c): int(n) for c, n in conn.execute(stmt.group_by(e.customer_id))})


def _referrals(conn: Connection, f: dict[str, Any]) -> list[tuple[int, int, datetime]]:
    r = referrals_t.c
    stmt = select(r.referrer_id, r.referred_id, r.at).select_from(
        referrals_t.join(events_t, events_t.c.message_id == r.message_id)
    ).where(r.status == "attributed")  # fmt: skip
    return [(int(a), int(b), at) for a, b, at in conn.execute(_scoped(stmt, f))]


def _revenue(conn: Connection, settings: Settings, refs: list[tuple[int, int, datetime]],
             f: dict[str, Any]) -> float:  # fmt: skip
    if not refs:
        return 0.0
    e = events_t.c
    since = {referred: at for _, referred, at in refs}
    purchases = settings.pulse.names_of(["purchase"])
    stmt = select(e.customer_id, e.occurred_at, e.value).where(
        e.type.in_(purchases), e.customer_id.in_(sorted(since)), e.value.is_not(None)
    )
    if f["until"] is not None:
        stmt = stmt.where(e.occurred_at < f["until"])
    return float(sum(v for cid, at, v in conn.execute(stmt) if at >= since[cid]))


def _platforms(conn: Connection, settings: Settings, kind: str,
               f: dict[str, Any]) -> tuple[Counter[str], Counter[int]]:  # fmt: skip
    e = events_t.c
    names = settings.pulse.names_of([kind])
    rows = conn.execute(_scoped(select(e.customer_id, e.properties).where(e.type.in_(names)), f))
    per: Counter[str] = Counter()
    who: Counter[int] = Counter()
    for cid, props in rows:
        platform = (props or {}).get("platform")
        per[str(platform) if isinstance(platform, str) and platform else "unknown"] += 1
        who[int(cid)] += 1
    return per, who


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def report(conn: Connection, settings: Settings, f: dict[str, Any]) -> dict[str, Any]:
    """The advocacy report for the filters `f` (see `query`)."""
    promoted = promoters(conn, settings, f)
    asks = _asks(conn, settings, f)
    refs = _referrals(conn, f)
    by_referrer = Counter(a for a, _, _ in refs)
    asked_promoters = len(promoted & set(asks))
    asked_who_referred = len(set(asks) & set(by_referrer))
    reviews, reviewers = _platforms(conn, settings, "review", f)
    shares, sharers = _platforms(conn, settings, "content_share", f)
    total_asks = sum(asks.values())
    return {
        **f,
        "promoters": len(promoted),
        "asked": asked_promoters,
        "ask_rate": _share(asked_promoters, len(promoted)),
        "asks": total_asks,
        "asked_customers": len(asks),
        "referrals": len(refs),
        "conversion": _share(len(refs), total_asks),
        "asked_who_referred": asked_who_referred,
        "asked_who_referred_rate": _share(asked_who_referred, len(asks)),
        "referred_customers": len({b for _, b, _ in refs}),
        "referred_revenue": _revenue(conn, settings, refs, f),
        "reviews": {"total": sum(reviews.values()), "per_platform": dict(reviews.most_common())},
        "shares": {"total": sum(shares.values()), "per_platform": dict(shares.most_common())},
        "top_advocates": _top(conn, by_referrer, reviewers + sharers),
    }


def _top(conn: Connection, refs: Counter[int], posts: Counter[int]) -> list[dict[str, Any]]:
    ranked = sorted(set(refs) | set(posts), key=lambda c: (-refs[c], -posts[c], c))[:TOP]
    c = customers_t.c
    names = {int(i): n for i, n in conn.execute(select(c.id, c.name).where(c.id.in_(ranked)))}
    return [{"customer_id": cid, "name": names.get(cid), "referrals": refs[cid],
             "reviews_and_shares": posts[cid]} for cid in ranked]  # fmt: skip


def summary(conn: Connection, settings: Settings, now: datetime) -> dict[str, Any]:
    """The dashboard's advocacy tile: the last 90 days' promoters, how many were asked, the ask
    rate (0..1, None without promoters) and the referrals attributed."""
    f = {"since": now - timedelta(days=90), "until": now, "channel": None, "department": None}
    promoted = promoters(conn, settings, f)
    asked = len(promoted & set(_asks(conn, settings, f)))
    return {"promoters": len(promoted), "asked": asked, "ask_rate": _share(asked, len(promoted)),
            "referrals": len(_referrals(conn, f))}  # fmt: skip
