"""The journey's ingest step: re-evaluate the stages a batch can move."""

from __future__ import annotations

from hxpulse.events.batch import Batch
from hxpulse.journey import service
from hxpulse.pulse.live import Change


def step(batch: Batch) -> None:
    """Re-evaluate the stages the batch can move; the stage goes into each customer's pulse
    change (written with the sums in one update of the row) and the stored transitions into
    `batch.transitions`."""
    stages = service.update(batch.conn, batch.live, batch.events, batch.owners,
                            created=batch.created, merged=batch.merged, now=batch.now)  # fmt: skip
    for customer_id, timeline in stages:
        change = batch.changes.setdefault(customer_id, Change())
        change.stage, change.stage_at = timeline.stage, timeline.stage_at
        change.detractor = timeline.detractor
        if timeline.transitions:
            batch.transitions[customer_id] = list(timeline.transitions)
