"""Group commit: requests that arrive together are committed in one transaction.

Each request still gets its answer only after its events are committed. While one transaction
is being written, new requests queue; the next writer takes all of them at once. Fewer,
larger transactions mean fewer fsyncs and less fixed work per event, which is what lets many
small HTTP batches approach the speed of a bulk import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from hxpulse.config import Live
from hxpulse.events.schemas import EventIn, IngestResult
from hxpulse.ingest import ingest

log = logging.getLogger("hxpulse")


@dataclass(slots=True)
class _Request:
    events: Sequence[EventIn]
    done: threading.Event = field(default_factory=threading.Event)
    result: IngestResult | None = None
    error: BaseException | None = None


class GroupCommit:
    """Call `ingest(events)` from any thread; it returns once those events are committed."""

    def __init__(self, engine: Engine, *, live: Live | None, max_events: int = 5000) -> None:
        self.engine = engine
        self.live = live
        self.max_events = max_events
        self._queue_lock = threading.Lock()
        self._writer_lock = threading.Lock()
        self._pending: list[_Request] = []

    def ingest(self, events: Sequence[EventIn]) -> IngestResult:
        request = _Request(events)
        with self._queue_lock:
            self._pending.append(request)
        while not request.done.is_set():
            with self._writer_lock:
                if not request.done.is_set():
                    self._write(self._take())
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _take(self) -> list[_Request]:
        """Take the waiting requests, oldest first, up to `max_events` (at least one)."""
        with self._queue_lock:
            group: list[_Request] = []
            size = 0
            while self._pending:
                waiting = len(self._pending[0].events)
                if group and size + waiting > self.max_events:
                    break
                size += waiting
                group.append(self._pending.pop(0))
            return group

    def _write(self, group: list[_Request]) -> None:
        if len(group) > 1:
            try:
                combined = ingest(self.engine, [e for r in group for e in r.events], live=self.live)
            except Exception:  # noqa: BLE001 - retried one by one so one request cannot sink others
                log.warning("group commit of %d requests failed; committing one by one", len(group))
            else:
                _split(group, combined)
                return
        for request in group:
            try:
                request.result = ingest(self.engine, request.events, live=self.live)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                request.error = exc
            request.done.set()


def _split(group: list[_Request], combined: IngestResult) -> None:
    """Give each request its own counts: a new message id counts for the first that sent it."""
    unclaimed = set(combined.new_message_ids)
    for request in group:
        ids = {e.message_id for e in request.events}
        mine = ids & unclaimed
        unclaimed -= mine
        erased = ids & combined.erased_message_ids
        request.result = IngestResult(
            received=len(request.events),
            stored=len(mine),
            duplicates=len(request.events) - len(mine) - len(erased),
            erased=len(erased),
            new_message_ids=mine,
            erased_message_ids=erased,
        )
        request.done.set()
