"""The batch that the ingest steps share: what was stored, for whom, and what each step found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from hxpulse.config import Live
from hxpulse.events.schemas import EventIn

if TYPE_CHECKING:
    from hxpulse.customers.service import Resolution


@dataclass(slots=True)
class Batch:
    """The fresh events of one ingest transaction, and what the steps found out about them.

    `events[i]` belongs to customer `owners[i]`; every event here is new (duplicates and
    erased people were dropped) and already inserted. Steps read what earlier steps wrote:
    `changes` (customer → the pulse step's `pulse.live.Change`, which the journey step adds its
    stage to) and `transitions` (customer → the changes of stage the journey step stored).
    """

    conn: Connection
    live: Live
    now: datetime
    events: list[EventIn]
    owners: list[int]
    resolution: Resolution
    # SQLite: each event's occurred_at as stored (the insert formatted them; steps reuse them)
    stamps: list[str] | None = None
    changes: dict[int, Any] = field(default_factory=dict)
    transitions: dict[int, list[Any]] = field(default_factory=dict)
    bands_before: dict[int, str] = field(default_factory=dict)  # only when band rules exist

    @property
    def created(self) -> list[int]:
        """Customers this batch created."""
        return self.resolution.created

    @property
    def merged(self) -> list[int]:
        """Survivors of the merges this batch made."""
        return [survivor for survivor, _ in self.resolution.merges]
