"""The ingest transaction, read top to bottom: the steps each domain provides.

`ingest` stores a batch of touchpoints in one write transaction and returns only after the
commit (the HTTP endpoints answer 200 only then). The events domain receives the batch
(duplicates and erased people dropped, identities resolved, rows inserted); then every step in
`STEPS` runs, in order, on the same `Batch`. A new consumer of events is one more line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from hxpulse.advocacy import service as advocacy
from hxpulse.config import Live
from hxpulse.db.engine import run_write
from hxpulse.events import service as events
from hxpulse.events.batch import Batch
from hxpulse.events.schemas import EventIn, IngestResult
from hxpulse.journey import live as journey
from hxpulse.offers import respond as offers
from hxpulse.pulse import live as pulse
from hxpulse.rules import service as rules

Step = Callable[[Batch], None]
DEFAULT_LIVE = Live()

STEPS: tuple[Step, ...] = (
    advocacy.attribute,  # referred people's codes: a referral on the referrer, both linked
    pulse.count,  # each event's term in its customer's pulse; negatives opened and resolved
    journey.step,  # the stages the batch can move, and every change of stage
    rules.note_bands,  # the bands before the write, when a rule waits for a change of band
    pulse.write,  # one update per customer row: the pulse sums and the stage together
    events.apply_traits,  # traits, preferences and consent carried by identify calls
    offers.step,  # offer responses answer their exposures; acceptances teach the bandit
    rules.step,  # the rules the batch's events, stages and bands trigger, into the outbox
)
BARE_STEPS: tuple[Step, ...] = (events.apply_traits,)  # live=None: the benchmarks' baseline


def ingest(
    engine: Engine,
    batch: Sequence[EventIn],
    *,
    now: datetime | None = None,
    live: Live | None = DEFAULT_LIVE,
) -> IngestResult:
    """Store `batch` in one transaction; return once it is committed.

    `live` is the configuration the steps run with (None: store the events and their traits
    only, which only the benchmarks' baseline does).
    """
    moment = now or datetime.now(UTC)
    return run_write(engine, lambda conn: ingest_in(conn, batch, now=moment, live=live))


def ingest_in(
    conn: Connection,
    batch: Sequence[EventIn],
    *,
    now: datetime,
    live: Live | None = DEFAULT_LIVE,
) -> IngestResult:
    """Store `batch` inside the caller's transaction (see `ingest`)."""
    received, result = events.receive(conn, batch, now=now, live=live or DEFAULT_LIVE)
    if received is None:
        return result
    for step in STEPS if live is not None else BARE_STEPS:
        step(received)
    return result


def ingest_own(
    conn: Connection,
    batch: Sequence[EventIn],
    customer_id: int,
    *,
    now: datetime,
    live: Live = DEFAULT_LIVE,
) -> None:
    """Store events HX Pulse makes for one live customer (`events.receive_own`: no duplicate,
    erasure or identity checks) inside the caller's transaction, and run every step on them
    as on any other event: the pulse, the journey, the rules."""
    if not batch:
        return
    received = events.receive_own(conn, batch, customer_id, now=now, live=live)
    for step in STEPS:
        step(received)
