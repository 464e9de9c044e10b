"""Stages kept live by ingestion: transitions with their cause, late events, merges, rebuild."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from hxpulse.config import Live
from hxpulse.customers import queries
from hxpulse.customers.service import customers_t
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.journey import rebuild, service
from hxpulse.journey.store import stage_changes_t

LIVE = Live()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
T = datetime(2026, 1, 1, tzinfo=UTC)


def event(
    mid: str,
    user: str | list[tuple[str, str]],
    kind: str,
    day: float,
    channel: str = "web",
    department: str | None = None,
    **props: str,
) -> EventIn:
    identities = [("user_id", user)] if isinstance(user, str) else user
    return EventIn(message_id=mid, kind="track", type=kind, identities=identities,
                   occurred_at=T + timedelta(days=day), channel=channel, department=department,
                   properties=dict(props))  # fmt: skip


def changes(engine: Engine, user: str) -> list[tuple[Any, ...]]:
    s = stage_changes_t.c
    with engine.connect() as conn:
        cid = queries.find(conn, user)
        rows = conn.execute(
            select(s.changed_at, s.from_stage, s.to_stage, s.message_id, s.channel, s.department)
            .where(s.customer_id == cid).order_by(s.changed_at, s.id)
        )  # fmt: skip
        return [tuple(r) for r in rows]


def profile(engine: Engine, user: str) -> tuple[Any, ...]:
    c = customers_t.c
    with engine.connect() as conn:
        cid = queries.find(conn, user)
        row = conn.execute(select(c.stage, c.stage_at, c.detractor).where(c.id == cid)).one()
    return tuple(row)


def day(n: float) -> datetime:
    return T + timedelta(days=n)


def test_transitions_carry_time_message_channel_and_department(engine: Engine) -> None:
    ingest(engine, [event("v", "ann", "page_view", 0, "app"),
                    event("s", "ann", "signup", 1, "email", "marketing")], now=NOW)  # fmt: skip
    ingest(engine, [event("p1", "ann", "purchase", 5, "store", "sales")], now=NOW)
    ingest(engine, [event("x", "ann", "page_view", 6)], now=NOW)  # not stage-relevant
    ingest(engine, [event("p2", "ann", "purchase", 9, "web", "sales")], now=NOW)
    assert changes(engine, "ann") == [
        (day(0), None, "prospect", "v", "app", None),
        (day(1), "prospect", "lead", "s", "email", "marketing"),
        (day(5), "lead", "customer", "p1", "store", "sales"),
        (day(9), "customer", "repeat_customer", "p2", "web", "sales"),
    ]
    assert profile(engine, "ann") == ("repeat_customer", day(9), False)


def test_a_new_customer_with_irrelevant_events_only_enters_the_first_stage(engine: Engine) -> None:
    ingest(engine, [event("b", "bo", "page_view", 3), event("a", "bo", "page_view", 2, "app")],
           now=NOW)  # fmt: skip
    assert changes(engine, "bo") == [(day(2), None, "prospect", "a", "app", None)]
    assert profile(engine, "bo") == ("prospect", day(2), False)


def test_complaint_downgrades_and_resolution_restores(engine: Engine) -> None:
    ingest(engine, [event("p1", "cy", "purchase", 0), event("p2", "cy", "purchase", 1)], now=NOW)
    ingest(engine, [event("c", "cy", "complaint", 10, "phone", "support")], now=NOW)
    assert profile(engine, "cy") == ("customer", day(10), False)
    ingest(engine, [event("r", "cy", "resolution", 12, "chat", "support", resolves="c")], now=NOW)
    assert profile(engine, "cy") == ("repeat_customer", day(12), False)
    assert [c[1:4] for c in changes(engine, "cy")] == [
        (None, "customer", "p1"), ("customer", "repeat_customer", "p2"),
        ("repeat_customer", "customer", "c"), ("customer", "repeat_customer", "r"),
    ]  # fmt: skip


def test_detractor_flag_follows_the_last_nps_answer(engine: Engine) -> None:
    ingest(engine, [event("p1", "di", "purchase", 0), event("d", "di", "detractor", 2)], now=NOW)
    assert profile(engine, "di")[2] is True
    ingest(engine, [event("pr", "di", "promoter", 5)], now=NOW)
    assert profile(engine, "di")[2] is False
    ingest(engine, [event("d0", "di", "detractor", 1)], now=NOW)  # late, but not the last answer
    assert profile(engine, "di")[2] is False


def test_a_late_event_before_the_entry_moves_the_entry(engine: Engine) -> None:
    ingest(engine, [event("p1", "ed", "purchase", 5)], now=NOW)
    assert changes(engine, "ed") == [(day(5), None, "customer", "p1", "web", None)]
    ingest(engine, [event("v", "ed", "page_view", 1, "app")], now=NOW)
    assert changes(engine, "ed") == [(day(1), None, "prospect", "v", "app", None),
                                     (day(5), "prospect", "customer", "p1", "web", None)]  # fmt: skip


def test_a_late_purchase_rewrites_the_later_transitions(engine: Engine) -> None:
    ingest(engine, [event("p1", "fa", "purchase", 0), event("c", "fa", "complaint", 5),
                    event("p3", "fa", "purchase", 9)], now=NOW)  # fmt: skip
    assert profile(engine, "fa")[0] == "customer"  # complaint still open
    ingest(engine, [event("p2", "fa", "purchase", 2)], now=NOW)
    assert [c[1:4] for c in changes(engine, "fa")] == [
        (None, "customer", "p1"), ("customer", "repeat_customer", "p2"),
        ("repeat_customer", "customer", "c"),
    ]  # fmt: skip


def test_a_merge_replays_the_survivor(engine: Engine) -> None:
    ingest(engine, [event("a1", [("email", "gi@example.com")], "purchase", 1, "store")], now=NOW)
    ingest(engine, [event("b0", [("user_id", "gi")], "page_view", 0, "app"),
                    event("b1", [("user_id", "gi")], "purchase", 3)], now=NOW)  # fmt: skip
    result = ingest(engine, [event("m", [("user_id", "gi"), ("email", "gi@example.com")],
                                   "identify", 4)], now=NOW)  # fmt: skip
    assert result.merges == 1
    assert changes(engine, "gi") == [
        (day(0), None, "prospect", "b0", "app", None),
        (day(1), "prospect", "customer", "a1", "store", None),
        (day(3), "customer", "repeat_customer", "b1", "web", None),
    ]
    assert profile(engine, "gi") == ("repeat_customer", day(3), False)
    with engine.connect() as conn:
        survivor = queries.find(conn, "gi")
        assert [h["to_stage"] for h in service.history(conn, survivor)] == [
            "prospect", "customer", "repeat_customer"]  # fmt: skip


KINDS = ["page_view", "page_view", "signup", "add_to_cart", "purchase", "purchase", "review",
         "referral", "complaint", "resolution", "detractor", "promoter"]  # fmt: skip


def random_log(
    rng: random.Random, prefix: str, users: int, count: int, kinds: list[str] = KINDS
) -> list[EventIn]:
    return [event(f"{prefix}-{i}", f"{prefix}-u{rng.randrange(users)}", rng.choice(kinds),
                  rng.uniform(0, 400), rng.choice(["web", "app", "store"]))
            for i in range(count)]  # fmt: skip


def all_changes(engine: Engine) -> dict[int, list[tuple[Any, ...]]]:
    s = stage_changes_t.c
    found: dict[int, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.customer_id, s.changed_at, s.from_stage, s.to_stage, s.message_id, s.channel)
            .order_by(s.customer_id, s.changed_at, s.id)
        )  # fmt: skip
        for row in rows:
            found.setdefault(row[0], []).append(tuple(row[1:]))
        stages = {r[0]: r[1] for r in conn.execute(select(customers_t.c.id, customers_t.c.stage))}
    for cid, rows_of in found.items():
        assert stages[cid] == rows_of[-1][2]
    return found


def test_random_arrival_order_matches_a_rebuild_from_the_log(engine: Engine) -> None:
    rng = random.Random(11)
    log = random_log(rng, "r", 6, 160)
    shuffled = log[:]
    rng.shuffle(shuffled)
    start = 0
    while start < len(shuffled):
        size = rng.randint(1, 25)
        ingest(engine, shuffled[start : start + size], now=NOW)
        start += size
    live = all_changes(engine)
    assert len(live) == 6
    with engine.begin() as conn:
        assert rebuild.rebuild(conn, LIVE, chunk=4) == 6
    assert all_changes(engine) == live


def test_rebuild_with_progress_and_given_customers(engine: Engine) -> None:
    ingest(engine, random_log(random.Random(3), "q", 5, 60), now=NOW)
    before = all_changes(engine)
    seen: list[int] = []
    with engine.begin() as conn:
        conn.execute(stage_changes_t.delete())
        assert rebuild.rebuild(conn, LIVE, progress=seen.append, chunk=2) == 5
    assert seen == [2, 2, 1]
    assert all_changes(engine) == before
    with engine.begin() as conn:
        some = sorted(before)[:2]
        conn.execute(stage_changes_t.delete().where(stage_changes_t.c.customer_id.in_(some)))
        assert rebuild.rebuild(conn, LIVE, customer_ids=some) == 2
    assert all_changes(engine) == before


def test_without_live_nothing_is_tracked(engine: Engine) -> None:
    ingest(engine, [event("p1", "ho", "purchase", 0)], now=NOW, live=None)
    assert changes(engine, "ho") == []
    ingest(engine, [event("p2", "ho", "purchase", 1)], now=NOW)  # first tracked batch: replay all
    assert [c[1:4] for c in changes(engine, "ho")] == [
        (None, "customer", "p1"), ("customer", "repeat_customer", "p2")]  # fmt: skip


def test_concurrent_batches_for_the_same_customers_match_a_rebuild(engine: Engine) -> None:
    import threading

    rng = random.Random(23)
    # types without a pulse weight: the pulse's update does not lock these customers
    log = random_log(rng, "c", 4, 240, ["signup", "add_to_cart", "trial_start", "lead_form"])
    ingest(engine, log[:8], now=NOW)  # the customers exist before the race
    parts = [log[8 + n :: 4] for n in range(4)]
    failures: list[BaseException] = []

    def send(part: list[EventIn]) -> None:
        try:
            for start in range(0, len(part), 6):
                ingest(engine, part[start : start + 6], now=NOW)
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    live = all_changes(engine)
    with engine.begin() as conn:
        rebuild.rebuild(conn, LIVE)
    assert all_changes(engine) == live


def test_a_concurrent_batch_waits_and_replays_on_top(engine: Engine) -> None:
    import threading

    from hxpulse.db.engine import write
    from hxpulse.ingest import ingest_in

    # types without a pulse weight, so only the journey's own lock orders the two batches
    ingest(engine, [event("e0", "ivy", "page_view", 0)], now=NOW)
    done = threading.Event()
    with write(engine) as conn:
        ingest_in(conn, [event("e2", "ivy", "add_to_cart", 2)], now=NOW)
        late = threading.Thread(
            target=lambda: (ingest(engine, [event("e1", "ivy", "signup", 1)], now=NOW), done.set())
        )
        late.start()
        assert not done.wait(0.5)  # it waits for this transaction
    late.join()
    assert [c[1:4] for c in changes(engine, "ivy")] == [
        (None, "prospect", "e0"), ("prospect", "lead", "e1"), ("lead", "qualified_lead", "e2")]  # fmt: skip


def stored(engine: Engine) -> dict[int, tuple[Any, ...]]:
    c = customers_t.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.id, c.stage, c.stage_at, c.detractor, c.journey_counters)
                            .where(c.merged_into_id.is_(None)))  # fmt: skip
        return {r[0]: tuple(r[1:]) for r in rows}


def test_in_order_and_late_histories_match_a_rebuild_counters_included(engine: Engine) -> None:
    later = T + timedelta(days=500)  # after every event (a negative dated later counts as now)
    for seed in range(6):
        rng = random.Random(seed)
        log = sorted(random_log(rng, f"o{seed}", 5, 120), key=lambda e: e.occurred_at)
        late = rng.sample(log, rng.choice([0, 0, 3, 10]))  # held back, sent at the end
        in_order = [e for e in log if e not in late]
        start = 0
        while start < len(in_order):
            size = rng.randint(1, 12)
            ingest(engine, in_order[start : start + size], now=later)
            start += size
        if late:
            ingest(engine, late, now=later)
    live_changes, live_state = all_changes(engine), stored(engine)
    assert all(state[3] is not None for state in live_state.values())
    with engine.begin() as conn:
        rebuild.rebuild(conn, LIVE)
    assert all_changes(engine) == live_changes
    assert stored(engine) == live_state


def test_an_in_order_event_is_decided_from_the_stored_counters(engine: Engine) -> None:
    ingest(engine, [event("p1", "jo", "purchase", 1)], now=NOW)
    with engine.begin() as conn:  # the history is not read again: forget the first purchase
        conn.execute(text("DELETE FROM events WHERE message_id = 'p1'"))
    ingest(engine, [event("p2", "jo", "purchase", 2)], now=NOW)
    assert profile(engine, "jo")[0] == "repeat_customer"  # counted from the stored counters
    with engine.begin() as conn:
        rebuild.rebuild(conn, LIVE)
    assert profile(engine, "jo")[0] == "customer"  # the log alone has one purchase


def test_customers_without_counters_are_replayed_in_full_once(engine: Engine) -> None:
    ingest(engine, [event("v", "kai", "page_view", 0), event("p1", "kai", "purchase", 1)],
           now=NOW)  # fmt: skip
    with engine.begin() as conn:  # as after the migration that added the counters
        conn.execute(text("UPDATE customers SET journey_counters = NULL"))
    ingest(engine, [event("r", "kai", "review", 3)], now=NOW)
    ingest(engine, [event("p2", "kai", "purchase", 4)], now=NOW)
    assert [c[2] for c in changes(engine, "kai")] == ["prospect", "customer", "repeat_customer"]
    before = stored(engine)
    assert all(state[3] is not None for state in before.values())
    with engine.begin() as conn:
        rebuild.rebuild(conn, LIVE)
    assert stored(engine) == before


def test_counters_kept_under_other_stages_are_rebuilt_once(engine: Engine) -> None:
    from hxpulse.config import JourneySettings, StageCondition, StageRule

    other = Live(journey=JourneySettings(stages=[
        StageRule(name="prospect"),
        StageRule(name="customer", when=[StageCondition(events=["purchase"])]),
        StageRule(name="fan", when=[StageCondition(events=["review"], min_count=2,
                                                   within_days=10)]),
    ]))  # fmt: skip
    ingest(engine, [event("r1", "lu", "review", 0), event("p1", "lu", "purchase", 1)], now=NOW)
    ingest(engine, [event("r2", "lu", "review", 5)], now=NOW, live=other)
    assert [c[2] for c in changes(engine, "lu")] == ["prospect", "customer", "fan"]
    before = stored(engine)
    with engine.begin() as conn:
        rebuild.rebuild(conn, other)
    assert stored(engine) == before
