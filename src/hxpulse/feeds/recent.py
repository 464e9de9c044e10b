"""The newest messages of every feed, read once per interval for all the streams of a process.

Every open stream looks for news every `[feeds] poll_ms`. Asking the database once per stream
would cost a query per subscriber per poll; instead the first stream to ask after
`max_age` reads what came after the last id read (one index range scan, all feeds), and every
stream picks its own messages from what is held in memory. The newest `size` messages are
held; a stream further behind (a reconnection with an old `Last-Event-ID`) reads the database
itself until it catches up. A threading lock guards it: the streams read it from worker
threads (the database calls must not block the event loop).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from hxpulse.feeds import service

Row = dict[str, Any]
MAX_READS = 10  # reads of `size` messages per refresh at most; a stream below them reads itself


class Recent:
    def __init__(self, engine: Engine, *, max_age: float, size: int = 2000) -> None:
        self.engine, self.max_age, self.size = engine, max_age, size
        self._lock = threading.Lock()
        self._rows: deque[Row] = deque()
        self._cursor = 0  # the newest id read
        self._floor = 0  # every message with an id above it is held
        self._read_at: float | None = None

    def position(self) -> int:
        """The newest message id (after a refresh, if one is due)."""
        with self._lock:
            self._refresh()
            return self._cursor

    def after(
        self, cursor: int, match: Callable[[Row], bool], limit: int
    ) -> tuple[list[Row], int] | None:
        """The held messages above `cursor` that `match`, oldest first, at most `limit`, and
        the position after them (past the messages that did not match); None when messages
        above `cursor` are no longer held (read the database then)."""
        with self._lock:
            self._refresh()
            if cursor < self._floor:
                return None
            newest = self._cursor
            newer: list[Row] = []
            for row in reversed(self._rows):  # newest first: usually stops at once
                if row["id"] <= cursor:
                    break
                newer.append(row)
        chosen = [row for row in reversed(newer) if match(row)]
        if len(chosen) > limit:
            return chosen[:limit], int(chosen[limit - 1]["id"])
        return chosen, max(newest, cursor)

    def _refresh(self) -> None:
        moment = time.monotonic()
        if self._read_at is not None and moment - self._read_at < self.max_age:
            return
        with self.engine.connect() as conn:
            if self._read_at is None:
                self._cursor = self._floor = service.latest_id(conn)
            for _ in range(MAX_READS):
                rows = service.since_any(conn, after=self._cursor, limit=self.size)
                for row in rows:
                    if len(self._rows) >= self.size:
                        self._floor = int(self._rows.popleft()["id"])
                    self._rows.append(row)
                    self._cursor = int(row["id"])
                if len(rows) < self.size:
                    break
            else:  # more than MAX_READS * size at once: hold only the newest from now on
                self._rows.clear()
                self._cursor = self._floor = service.latest_id(conn)
        self._read_at = time.monotonic()
