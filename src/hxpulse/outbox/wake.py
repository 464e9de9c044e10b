"""Wake this process's dispatcher the moment a transaction that enqueued actions commits.

`enqueue` marks its connection (`mark`); when the connection goes back to the pool, after its
transaction committed or rolled back, the pool's check-in hook of every `watch`ing dispatcher
of that engine fires its `Wakeup`. A spurious wake (a rollback) costs one empty claim. Other
processes (workers) do not hear it: they poll every `outbox.poll_seconds`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event

MARK = "hx_outbox_enqueued"


class Wakeup:
    """A one-bit signal: `notify` from any thread, `wait` in the dispatcher's loop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait until notified or `timeout` seconds passed; return whether notified."""
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired


def mark(conn: Connection) -> None:
    """Note that `conn`'s transaction enqueued actions (called by `enqueue`)."""
    conn.info[MARK] = True


def watch(engine: Engine, wakeup: Wakeup) -> Callable[[], None]:
    """Notify `wakeup` whenever a marked connection of `engine` is checked in; return the
    function that stops watching."""

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(MARK, False):
            wakeup.notify()

    event.listen(engine, "checkin", checked_in)
    return lambda: event.remove(engine, "checkin", checked_in)
