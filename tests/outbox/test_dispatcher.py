"""The dispatcher against a real receiver: signed deliveries, backoff with a frozen clock,
dead letters and replay, leases, a receiver that is down for a while."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.outbox import queries
from hxpulse.outbox import service as outbox
from hxpulse.outbox.dispatch import Outcome
from hxpulse.outbox.dispatcher import Dispatcher
from hxpulse.outbox.service import Action
from hxpulse.webhooks import service as webhooks
from tests.webhooks.helpers import endpoint, fan, local
from tests.webhooks.receiver import Receiver, Server

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _rows(engine: Engine) -> list[dict[str, Any]]:
    o = outbox.outbox_t.c
    with engine.connect() as conn:
        found = conn.execute(select(o.id, o.key, o.status, o.attempts, o.due_at, o.last_status)
                             .order_by(o.id))  # fmt: skip
        return [dict(r._mapping) for r in found]


def test_a_delivery_is_signed_and_verifies(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    s = local(settings)
    receiver.secrets = [endpoint(engine, s, receiver.url)["secret"]]
    fan(engine, ["order-1"])
    with Dispatcher(engine, s) as dispatcher:
        assert dispatcher.run_once() == 1
    [receipt] = receiver.receipts
    assert receipt.verified and receipt.id == "order-1:ops"
    assert receipt.headers["webhook-signature"].startswith("v1,")
    with engine.connect() as conn:
        [row] = queries.deliveries(conn, queries.Filters(status="done"))
        found = queries.get(conn, row["id"])
    assert found["endpoint"] == "ops" and found["type"] == "rule.fired"
    assert [(t["attempt"], t["ok"], t["status"]) for t in found["tries"]] == [(1, True, 200)]


def test_failures_back_off_with_jitter_then_dead_then_replay(
    settings: Settings, engine: Engine, receiver: Receiver, request: pytest.FixtureRequest
) -> None:
    s = local(settings)
    endpoint(engine, s, receiver.url, now=T0)
    fan(engine, ["k"], now=T0)
    receiver.status = 503
    dispatcher = Dispatcher(engine, s)
    request.addfinalizer(dispatcher.stop)
    now, delays = T0, []
    for _ in range(40):
        assert dispatcher.run_once(now=now) == 1
        [row] = _rows(engine)
        if row["status"] == "dead":
            break
        assert dispatcher.run_once(now=row["due_at"] - timedelta(milliseconds=1)) == 0
        delays.append((row["due_at"] - now).total_seconds())
        now = row["due_at"]
    assert row["status"] == "dead" and row["last_status"] == 503
    assert now - T0 >= timedelta(hours=72) - timedelta(seconds=1)
    ceilings = [5, 300, 1800, 7200, 18000] + [36000] * 40
    assert all(c / 10 <= d <= c for d, c in zip(delays[:-1], ceilings, strict=False)), delays
    assert 0.5 <= delays[0] <= 5
    with engine.connect() as conn:
        found = queries.get(conn, row["id"])
    assert len(found["tries"]) == row["attempts"] == len(delays) + 1
    assert found["last_response"] == "ok"  # the receiver's answer, shown with the dead letter
    # replay: due at once, a fresh window; the receiver is back
    receiver.status = 200
    later = now + timedelta(days=1)
    assert run_write(engine, lambda conn: outbox.replay(conn, [row["id"]], now=later)) == 1
    assert dispatcher.run_once(now=later) == 1
    assert _rows(engine)[0]["status"] == "done"


def test_unknown_kinds_deleted_endpoints_and_410_are_dead_at_once(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    s = local(settings)
    gone = endpoint(engine, s, receiver.url, "gone")
    removed = endpoint(engine, s, receiver.url, "removed")
    run_write(engine, lambda conn: outbox.enqueue(conn, [Action("nonesuch", "n1")], now=T0))
    fan(engine, ["x"], now=T0)
    run_write(engine, lambda conn: webhooks.remove(conn, removed["id"], now=T0))
    receiver.status = 410
    with Dispatcher(engine, s) as dispatcher:
        assert dispatcher.run_once(now=T0) == 3
    assert [r["status"] for r in _rows(engine)] == ["dead"] * 3
    with engine.connect() as conn:
        after = webhooks.get(conn, gone["id"])
        rows = queries.deliveries(conn, queries.Filters(status="dead"))
    assert not after["enabled"] and "410" in after["disabled_reason"]
    reasons = {r["key"]: r["last_response"] for r in rows}
    assert "no handler for the kind 'nonesuch'" in reasons["n1"]
    assert "no webhook endpoint called 'removed'" in reasons["x:removed"]


def test_an_expired_lease_makes_the_row_claimable_and_fences_the_late_try(
    settings: Settings, engine: Engine
) -> None:
    run_write(engine, lambda conn: outbox.enqueue(conn, [Action("webhook", "k")], now=T0))
    lease = timedelta(seconds=60)
    [first] = run_write(engine, lambda conn: outbox.claim(conn, limit=5, lease=lease, now=T0))
    assert run_write(engine, lambda conn: outbox.claim(
        conn, limit=5, lease=lease, now=T0 + timedelta(seconds=59))) == []  # fmt: skip
    [second] = run_write(engine, lambda conn: outbox.claim(
        conn, limit=5, lease=lease, now=T0 + timedelta(seconds=61)))  # fmt: skip
    assert second.delivery.attempt == 2
    retry = outbox.Retry([5.0], timedelta(hours=1))
    late = run_write(engine, lambda conn: outbox.finish(conn, first, Outcome(True, 200),
                                                        retry=retry, now=T0))  # fmt: skip
    assert late is None  # the first try's lease ran out: the row is the second's
    assert run_write(engine, lambda conn: outbox.finish(
        conn, second, Outcome(True, 200), retry=retry, now=T0)) == "done"  # fmt: skip


def test_a_receiver_down_for_a_while_still_gets_each_key_exactly_once(
    settings: Settings, engine: Engine, receiver_server: Server
) -> None:
    receiver = receiver_server.receiver
    s = local(settings, retry_seconds=[0.3], concurrency=4)
    receiver.secrets = [endpoint(engine, s, receiver.url)["secret"]]
    receiver_server.down()
    keys = [f"e{n}" for n in range(30)]
    dispatcher = Dispatcher(engine, s).start()
    try:
        fan(engine, keys)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # every row has failed at least once
            with engine.connect() as conn:
                tried = conn.execute(text("SELECT count(*) FROM outbox WHERE attempts >= 1"
                                          " AND status = 'pending'")).scalar_one()  # fmt: skip
            if tried == len(keys):
                break
            time.sleep(0.05)
        assert tried == len(keys)
        receiver_server.up()
        assert receiver.wait_for(len(keys), timeout=20)
        time.sleep(0.5)  # nothing more arrives
    finally:
        dispatcher.stop()
    assert receiver.delivered() == {f"{k}:ops": 1 for k in keys}
    assert {r["status"] for r in _rows(engine)} == {"done"}


def test_the_in_process_dispatcher_wakes_on_commit(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    s = local(settings, poll_seconds=30)  # only the wake-up can deliver within the test
    receiver.secrets = [endpoint(engine, s, receiver.url)["secret"]]
    dispatcher = Dispatcher(engine, s).start()
    try:
        time.sleep(0.2)
        started = time.monotonic()
        fan(engine, ["woken"])
        assert receiver.wait_for(1, timeout=5)
        assert time.monotonic() - started < 2
    finally:
        dispatcher.stop()


def test_erasure_empties_the_customers_actions_and_stops_pending_ones(
    settings: Settings, engine: Engine
) -> None:
    actions = [Action("webhook", "a1", {"data": {"email": "ann@example.com"}}, customer_id=7),
               Action("webhook", "a2", {"data": {}}, customer_id=8)]  # fmt: skip
    run_write(engine, lambda conn: outbox.enqueue(conn, actions, now=T0))
    assert run_write(engine, lambda conn: outbox.erase_customer(conn, [7], now=T0)) == 1
    o = outbox.outbox_t.c
    with engine.connect() as conn:
        rows = {
            r.key: (r.status, r.payload) for r in conn.execute(select(o.key, o.status, o.payload))
        }
    assert rows == {"a1": ("dead", {}), "a2": ("pending", {"data": {}})}


def test_the_url_is_checked_again_at_delivery_and_a_slow_receiver_times_out(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    import threading

    endpoint(engine, local(settings), receiver.url)  # saved while private networks were allowed
    fan(engine, ["k"], now=T0)
    with Dispatcher(engine, settings) as dispatcher:  # now they are not
        dispatcher.run_once(now=T0)
    with engine.connect() as conn:
        [row] = queries.deliveries(conn, queries.Filters())
    assert row["status"] == "pending" and "private or loopback" in row["last_response"]
    assert receiver.receipts == []
    receiver.hold = threading.Event()
    slow = local(settings)
    slow = slow.model_copy(update={"webhooks": slow.webhooks.model_copy(
        update={"timeout_seconds": 0.3})})  # fmt: skip
    with Dispatcher(engine, slow) as dispatcher:
        dispatcher.run_once(now=T0 + timedelta(hours=1))
    receiver.hold.set()
    with engine.connect() as conn:
        [row] = queries.deliveries(conn, queries.Filters())
    assert row["status"] == "pending" and "ReadTimeout" in row["last_response"]
