"""Wake this process's dispatcher the moment a transaction that enqueued actions commits, and
hand it the rows it may deliver at once.

`enqueue` marks its connection (`mark`); when the connection goes back to the pool, after its
transaction committed or rolled back, the pool's check-in hook of every `watch`ing dispatcher
of that engine fires its `Wakeup`. A spurious wake (a rollback) costs one empty claim. Other
processes (workers) do not hear it: they poll every `outbox.poll_seconds`.

A dispatcher that watches with a `Taker` also takes rows before they are committed: `enqueue`
asks it for `room()` and writes that many of the rows due now already leased to it (the
lease and first try that a claim would write), keeps their claims on the connection (`hold`),
and the check-in hook hands them over (`take`). The taker checks with a read that each row is
there, still under that lease, before delivering it (a rolled-back transaction leaves none).
So a delivery caused by an ingest waits for no second write transaction, which on SQLite would
queue behind the next ingests for the one write lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event

MARK = "hx_outbox_enqueued"
HELD = "hx_outbox_held"


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


class Taker(Protocol):
    """A dispatcher of this process that takes rows as they are enqueued."""

    lease: timedelta

    def room(self) -> int:
        """How many more rows it would start on now."""
        ...

    def take(self, claims: list[Any]) -> None:
        """Rows enqueued leased to it, after their transaction ended (committed or not)."""
        ...


_TAKERS: dict[int, Taker] = {}


def mark(conn: Connection) -> None:
    """Note that `conn`'s transaction enqueued actions (called by `enqueue`)."""
    conn.info[MARK] = True


def taker_of(conn: Connection) -> Taker | None:
    """The dispatcher of this process that takes `conn`'s engine's rows at once, if any."""
    return _TAKERS.get(id(conn.engine))


def hold(conn: Connection, claims: list[Any]) -> None:
    """Keep claims of rows leased in `conn`'s transaction for the hand-over at check-in."""
    conn.info.setdefault(HELD, []).extend(claims)


def watch(engine: Engine, wakeup: Wakeup, taker: Taker | None = None) -> Callable[[], None]:
    """Notify `wakeup` whenever a marked connection of `engine` is checked in (and hand
    `taker` the rows held for it); return the function that stops watching."""

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        held = record.info.pop(HELD, None)
        if held and taker is not None:
            taker.take(held)
        if record.info.pop(MARK, False):
            wakeup.notify()

    event.listen(engine, "checkin", checked_in)
    if taker is not None:
        _TAKERS[id(engine)] = taker

    def unwatch() -> None:
        event.remove(engine, "checkin", checked_in)
        if _TAKERS.get(id(engine)) is taker:
            del _TAKERS[id(engine)]

    return unwatch
