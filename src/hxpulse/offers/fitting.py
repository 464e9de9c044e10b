"""`hxpulse fit offers`: the recommender learnt from the event log, stored for serving.

Interactions are (customer, item, weight) from the events that name an item (`offers.items`):
a purchase weighs `PURCHASE`, any other event naming an item (a view, an add to cart, an
accepted offer) `ENGAGEMENT`; a customer's weights for one item add up. The events are read
in one streamed pass; the model (`analytics.recommend.Recommender`) is fitted outside any
transaction and stored in one short one, so serving keeps the last model until then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, select

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.events.models import Event
from hxpulse.learn import store
from hxpulse.offers.items import items_of
from hxpulse.offers.serving import MODEL

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
    run_write(engine, lambda conn: store.save(conn, MODEL, meta=meta, data=data, now=now))
    return {"name": MODEL, "fitted_at": now, **meta}
