"""Remember key checks for one second, so the tracking path reads the key once a second at most.

A key revoked in this process is forgotten at once (`forget`); one revoked by another process
(the CLI, another server) stops working here within `ttl`, one second by default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 10_000


class KeyCache(Generic[T]):
    """Answers by secret (`T`, or None for an unknown key), each kept for `ttl` seconds."""

    def __init__(self, ttl: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._entries: dict[str, tuple[float, T | None, int | None]] = {}
        self._lock = threading.Lock()

    def get(self, secret: str) -> tuple[bool, T | None]:
        """(found, answer): found is False when the secret must be checked again."""
        entry = self._entries.get(secret)
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return False, None
        return True, entry[1]

    def put(self, secret: str, answer: T | None, key_id: int | None) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[secret] = (self.clock(), answer, key_id)

    def forget(self, key_id: int) -> None:
        """Drop every answer about key `key_id` (it was revoked or changed)."""
        with self._lock:
            for secret in [s for s, e in self._entries.items() if e[2] == key_id]:
                del self._entries[secret]
