"""`hxpulse fit offers`: the recommender learnt from the event log, stored for serving.

Interactions are (customer, item, weight) from the events that name an item (`offers.items`):
a purchase weighs `PURCHASE`, any other event naming an item (a view, an add to cart, an
accepted offer) `ENGAGEMENT`; a customer's weights for one item add up. The events are read
in one streamed pass; the model (`analytics.recommend.Recommender`) is fitted outside any
transaction and stored in one short one, so serving keeps the last model until then.

The model holds each customer's items and factors, so an erasure drops the erased customers'
rows from the stored model in its transaction (`forget`), and a fit that was reading while
someone was erased leaves them out when it saves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, select

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.events.models import Event
from hxpulse.learn import store
from hxpulse.offers.items import items_of
from hxpulse.offers.serving import MODEL, current_model

PURCHASE, ENGAGEMENT = 3.0, 1.0
CHUNK = 10_000
events_t = cast(Table, Event.__table__)
Progress = Callable[[str, float], None]


def interactions(
    conn: Connection, settings: Settings, progress: Progress | None = None
) -> dict[tuple[int, str], float]:
    """(customer, item) -> weight from every stored event naming an item (module doc)."""
    e = events_t.c
    total = int(conn.execute(select(func.count()).select_from(events_t)).scalar_one())
    purchases = settings.pulse.purchase_names
    weights: dict[tuple[int, str], float] = defaultdict(float)
    query = select(e.customer_id, e.type, e.properties).order_by(e.id)
    seen = 0
    for part in conn.execution_options(yield_per=CHUNK).execute(query).partitions():
        for customer, kind, properties in part:
            found = items_of(properties)
            if found:
                weight = PURCHASE if kind in purchases else ENGAGEMENT
                for item in found:
                    weights[(int(customer), item)] += weight
        seen += len(part)
        if progress is not None and total:
            progress("events", min(seen / total, 1.0))
    return weights


def fit(
    engine: Engine, settings: Settings, *, now: datetime, seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Fit the offers model on the event log and store it; return what was stored (`meta`)."""
    from hxpulse.analytics.recommend import Recommender

    with engine.connect() as conn:
        weights = interactions(conn, settings, progress)
    rows = [(customer, item, weight) for (customer, item), weight in weights.items()]
    model = Recommender.fit(rows, seed=seed, progress=progress)
    data = model.to_bytes()
    meta = {"interactions": len(rows), "customers": len({c for c, _, _ in rows}),
            "items": len({i for _, i, _ in rows}), "seed": seed, "bytes": len(data)}  # fmt: skip

    def save(conn: Connection) -> dict[str, Any]:
        store.lock(conn)
        fitted, kept, stored = model.without(store.erased_customers(conn)), dict(meta), data
        if fitted is not model:  # erased while the fit was reading
            stored = fitted.to_bytes()
            kept.update(forgotten=fitted.forgotten, bytes=len(stored))
        store.save(conn, MODEL, meta=kept, data=stored, now=now)
        return kept

    return {"name": MODEL, "fitted_at": now, **run_write(engine, save)}


def known(conn: Connection, customer_ids: list[int]) -> int:
    """How many of these customers the stored model has rows for."""
    model = current_model(conn)
    return 0 if model is None else sum(model.knows(c) for c in customer_ids)


def forget(conn: Connection, customer_ids: list[int], *, now: datetime) -> int:
    """Drop these customers' rows from the stored model (an erasure, in its transaction);
    return how many went. The meta stays, with `forgotten` added up and `trained_at` (the fit's
    time); `fitted_at` moves to `now` (later than the last, at least), so every process's
    serving reloads it."""
    store.lock(conn)
    model = current_model(conn)
    fitted = store.load(conn, MODEL, with_data=False)
    if model is None or fitted is None or not any(model.knows(c) for c in customer_ids):
        return 0
    smaller = model.without(customer_ids)
    gone = smaller.forgotten - model.forgotten
    meta = {**fitted.meta, "forgotten": int(fitted.meta.get("forgotten", 0)) + gone,
            "trained_at": fitted.meta.get("trained_at", fitted.fitted_at.isoformat())}  # fmt: skip
    stamp = max(now, fitted.fitted_at + timedelta(microseconds=1))
    store.save(conn, MODEL, meta=meta, data=smaller.to_bytes(), now=stamp)
    return gone


def status(conn: Connection) -> dict[str, Any] | None:
    """What the Offers page says of the model serving uses: when it was fitted (an erasure's
    rewrite keeps the fit's time) and on what; None before the first fit."""
    fitted = store.load(conn, MODEL, with_data=False)
    if fitted is None:
        return None
    trained = fitted.meta.get("trained_at")
    when = datetime.fromisoformat(trained) if trained else fitted.fitted_at
    return {**fitted.meta, "fitted_at": when}
