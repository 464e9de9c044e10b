"""Segment's own Python library sends 10,000 calls to a real `hxpulse serve`; all land once; the
README's example makes a customer with the purchase counted."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from segment.analytics import Client
from sqlalchemy import text

from hxpulse.config import PulseSettings
from hxpulse.pulse import service as pulse
from tests.e2e.conftest import RunningServer

PEOPLE = 1000
ROUNDS = 10  # calls per person: 10 × 1000 = 10,000
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def message_id(person: int, round_no: int) -> str:
    return f"seg-e2e-{person:04d}-{round_no}"


def calls() -> list[tuple[str, dict[str, Any]]]:
    """Every call in sending order: round by round, so one person's calls span many batches.

    Per person: anonymous tracks, then an alias from the anonymous id to the user id, an
    identify with an email, then tracks by user id. Even-numbered people also make one call
    with their user id *before* the alias, so that alias has to merge two existing profiles.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    for r in range(ROUNDS):
        for p in range(PEOPLE):
            anon, user = f"anon-{p}", f"user-{p}"
            common = {"message_id": message_id(p, r), "timestamp": T0 + timedelta(minutes=r)}
            if r == 0 or r == 2 or (r == 1 and p % 2):
                out.append(("track", {**common, "anonymous_id": anon, "event": "Product Viewed",
                                      "properties": {"sku": f"sku-{p % 17}"}}))  # fmt: skip
            elif r == 1:
                out.append(("track", {**common, "user_id": user, "event": "Signed In"}))
            elif r == 3:
                out.append(("alias", {**common, "previous_id": anon, "user_id": user}))
            elif r == 4:
                traits = {"email": f"Person{p}@Example.com", "name": f"Person {p}"}
                out.append(("identify", {**common, "user_id": user, "traits": traits}))
            else:
                out.append(("track", {**common, "user_id": user, "event": "Order Completed",
                                      "properties": {"revenue": 10.0 + r, "currency": "eur"}}))  # fmt: skip
    return out


def send(
    server: RunningServer, batch: list[tuple[str, dict[str, Any]]], **options: Any
) -> list[Any]:
    """Send `batch` with the official client in its normal background mode; return errors."""
    errors: list[Any] = []
    client = Client(
        server.write_key,
        host=server.url,
        sync_mode=False,
        max_queue_size=len(batch) + 1000,
        on_error=lambda exc, items: errors.append((repr(exc), len(items))),
        max_retries=3,
        timeout=30,
        **options,
    )
    try:
        for kind, arguments in batch:
            queued, _msg = getattr(client, kind)(**arguments)
            assert queued, f"the client's queue refused {arguments['message_id']}"
        client.flush()
        client.join()
    finally:
        client.shutdown()
    return errors


def stored_message_ids(server: RunningServer) -> Counter[str]:
    with server.engine.connect() as conn:
        return Counter(row[0] for row in conn.execute(text("SELECT message_id FROM events")))


def test_ten_thousand_segment_calls_are_stored_once_and_linked(server: RunningServer) -> None:
    everything = calls()
    expected = {arguments["message_id"] for _, arguments in everything}
    assert len(everything) == len(expected) == PEOPLE * ROUNDS
    assert {kind for kind, _ in everything} == {"track", "identify", "alias"}

    errors = send(server, everything)
    assert errors == [], f"{errors[:5]}\n{server.log_tail()}"

    stored = stored_message_ids(server)
    assert set(stored) == expected
    assert sum(stored.values()) == len(expected)  # each message id once
    assert max(stored.values()) == 1

    with server.engine.connect() as conn:
        owner = {
            (kind, value): cid
            for kind, value, cid in conn.execute(
                text("SELECT kind, value, customer_id FROM identities")
            )
        }
        live = {
            cid: name
            for cid, name in conn.execute(
                text("SELECT id, name FROM customers WHERE merged_into_id IS NULL")
            )
        }
        merged = conn.execute(
            text("SELECT count(*) FROM customers WHERE merged_into_id IS NOT NULL")
        ).scalar_one()
        event_owner = dict(conn.execute(text("SELECT message_id, customer_id FROM events")).all())
        kinds = Counter(k for (k,) in conn.execute(text("SELECT kind FROM events")))

    assert kinds == {"track": 8000, "alias": 1000, "identify": 1000}
    customer_of_person = []
    for p in range(PEOPLE):
        ids = {
            owner.get(("anonymous_id", f"anon-{p}")),
            owner.get(("user_id", f"user-{p}")),
            owner.get(("email", f"person{p}@example.com")),  # normalised to lower case
        }
        assert len(ids) == 1 and None not in ids, f"person {p}: identities on {ids}"
        (cid,) = ids
        assert cid in live, f"person {p}: identities point at merged customer {cid}"
        assert live[cid] == f"Person {p}"
        assert {event_owner[message_id(p, r)] for r in range(ROUNDS)} == {cid}
        customer_of_person.append(cid)
    assert len(set(customer_of_person)) == PEOPLE  # nobody was merged with someone else
    assert len(live) == PEOPLE
    # even-numbered people had a user-id profile before the alias: it was merged away
    assert merged == PEOPLE // 2

    # the client resends (gzip this time): the same message ids add nothing; one new call at
    # the end shows the resend really reached the server
    again = everything[:2500]
    sentinel = ("track", {"message_id": "seg-e2e-sentinel", "user_id": "user-7",
                          "event": "Order Completed", "timestamp": T0})  # fmt: skip
    errors = send(server, [*again, sentinel], gzip=True)
    assert errors == [], f"{errors[:5]}\n{server.log_tail()}"
    after = stored_message_ids(server)
    assert after == stored + Counter({"seg-e2e-sentinel": 1})
    assert sum(after.values()) == PEOPLE * ROUNDS + 1


def test_the_readme_example_makes_a_customer(server: RunningServer) -> None:
    client = Client(server.write_key, host=server.url)  # the README's lines, as they are
    client.track(
        user_id="42", event="Order Completed", properties={"revenue": 19.9, "currency": "EUR"}
    )
    client.flush()
    client.shutdown()

    got = httpx.get(f"{server.url}/api/customers/user_id:42/pulse",
                    headers={"authorization": f"Bearer {server.api_key}"}, timeout=30)  # fmt: skip
    assert got.status_code == 200, got.text
    found = got.json()
    settings = PulseSettings()
    counted = settings.weigh("purchase", 19.9)
    assert counted is not None
    assert found["stage"] == "customer"
    assert found["returns"] == pytest.approx(counted[1])  # 10 × (1 + ln(1 + 19.9 / 50))
    assert found["pulse"] == pytest.approx(counted[1], rel=1e-3)  # just now: nothing decayed
    assert [(e["type"], e["component"]) for e in found["top_events"]] == [
        ("Order Completed", "return")
    ]
    with server.engine.connect() as conn:
        assert pulse.unmapped(conn, settings) == []
