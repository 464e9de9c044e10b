"""Rows taken at enqueue by a started dispatcher (no claim written), and the recorder that
writes how tries went many at a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from hxpulse.config import Settings
from hxpulse.db.engine import run_write, write
from hxpulse.outbox import service as outbox
from hxpulse.outbox.dispatch import Context, Delivery, Outcome
from hxpulse.outbox.dispatcher import Dispatcher
from hxpulse.outbox.service import Action
from tests.webhooks.helpers import local


class Calls:
    """A handler that notes each delivery it is given (by key)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, _context: Context, delivery: Delivery) -> Outcome:
        self.keys.append(delivery.key)
        return Outcome(True, 200, "ok")

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.keys) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.keys) >= count


def _enqueue(engine: Engine, keys: list[str]) -> None:
    now = datetime.now(UTC)
    run_write(engine, lambda conn: outbox.enqueue(
        conn, [Action("note", k, {"n": k}) for k in keys], now=now))  # fmt: skip


def _rows(engine: Engine) -> dict[str, dict[str, Any]]:
    o = outbox.outbox_t.c
    with engine.connect() as conn:
        found = conn.execute(select(o.key, o.status, o.attempts, o.lease_until))
        return {r.key: dict(r._mapping) for r in found}


def test_a_started_dispatcher_takes_rows_leased_in_their_own_transaction(
    settings: Settings, engine: Engine
) -> None:
    calls = Calls()
    s = local(settings, poll_seconds=30, concurrency=2)  # polling cannot deliver in the test
    with Dispatcher(engine, s, handlers={"note": calls}, jobs=()).start():
        seen: dict[str, Any] = {}

        def inside(conn: Any) -> None:  # leased to the dispatcher before the commit
            outbox.enqueue(conn, [Action("note", f"k{n}") for n in range(6)],
                           now=datetime.now(UTC))  # fmt: skip
            o = outbox.outbox_t.c
            seen.update((r.key, r.attempts) for r in conn.execute(select(o.key, o.attempts)))

        run_write(engine, inside)
        assert seen == {"k0": 1, "k1": 1, "k2": 1, "k3": 1, "k4": 0, "k5": 0}  # room: 2 × 2
        assert calls.wait_for(6, timeout=5)  # the rest by a claim, woken by the commit
    assert sorted(calls.keys) == [f"k{n}" for n in range(6)]
    rows = _rows(engine)
    assert {r["status"] for r in rows.values()} == {"done"}
    assert {r["attempts"] for r in rows.values()} == {1}


def test_rows_of_a_rolled_back_transaction_are_not_delivered_and_free_their_room(
    settings: Settings, engine: Engine
) -> None:
    calls = Calls()
    s = local(settings, poll_seconds=30, concurrency=1)
    with Dispatcher(engine, s, handlers={"note": calls}, jobs=()).start() as dispatcher:
        try:
            with write(engine) as conn:
                outbox.enqueue(conn, [Action("note", "gone")], now=datetime.now(UTC))
                raise RuntimeError("the cause failed")
        except RuntimeError:
            pass
        _enqueue(engine, ["kept"])  # the same id again on SQLite, under another lease
        assert calls.wait_for(1, timeout=5)
        time.sleep(0.3)
        assert dispatcher.room() == 2
    assert calls.keys == ["kept"]
    assert _rows(engine)["kept"]["status"] == "done"


def test_tries_are_recorded_by_the_recorder_and_stop_writes_the_last_ones(
    settings: Settings, engine: Engine
) -> None:
    calls = Calls()
    s = local(settings, poll_seconds=0.05, concurrency=4)
    dispatcher = Dispatcher(engine, s, handlers={"note": calls}, jobs=()).start()
    try:
        _enqueue(engine, [f"r{n}" for n in range(40)])
        assert calls.wait_for(40, timeout=10)
    finally:
        dispatcher.stop()
    rows = _rows(engine)
    assert len(rows) == 40 and {r["status"] for r in rows.values()} == {"done"}
    assert {r["lease_until"] for r in rows.values()} == {None}
    assert sorted(calls.keys) == sorted(rows)  # each delivered once
