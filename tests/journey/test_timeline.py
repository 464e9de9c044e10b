"""`stage_timeline`: the definition of stages, replayed from one customer's events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hxpulse.config import JourneySettings, StageCondition, StageRule
from hxpulse.journey.definition import StageEvent, Transition, stage_timeline

JOURNEY = JourneySettings()
T = datetime(2026, 1, 1, tzinfo=UTC)


def ev(day: float, kind: str, mid: str | None = None, channel: str = "web") -> StageEvent:
    return StageEvent(mid or f"{kind}-{day}", kind, T + timedelta(days=day), channel, "sales")


def moves(events: list[StageEvent], negatives: list[tuple[datetime, datetime | None]] = ()
          ) -> list[tuple[float, str | None, str]]:  # fmt: skip
    found = stage_timeline(JOURNEY, events, negatives).transitions
    return [((t.at - T).total_seconds() / 86400, t.from_stage, t.to_stage) for t in found]


def test_no_events_no_transitions() -> None:
    timeline = stage_timeline(JOURNEY, [])
    assert timeline.transitions == [] and timeline.stage == "prospect"
    assert timeline.stage_at is None and timeline.detractor is False


def test_the_first_event_enters_the_first_stage_with_its_cause() -> None:
    timeline = stage_timeline(JOURNEY, [StageEvent("m1", "page_view", T, "app", "support")])
    assert timeline.transitions == [Transition(T, None, "prospect", "m1", "app", "support")]
    assert timeline.stage == "prospect" and timeline.stage_at == T


def test_each_default_stage_in_turn() -> None:
    events = [ev(0, "page_view"), ev(1, "signup"), ev(2, "add_to_cart"), ev(3, "purchase"),
              ev(4, "purchase", "p2"), ev(5, "review"), ev(6, "referral")]  # fmt: skip
    assert moves(events) == [
        (0, None, "prospect"), (1, "prospect", "lead"), (2, "lead", "qualified_lead"),
        (3, "qualified_lead", "customer"), (4, "customer", "repeat_customer"),
        (6, "repeat_customer", "advocate"),
    ]  # fmt: skip
    timeline = stage_timeline(JOURNEY, events)
    assert timeline.stage == "advocate" and timeline.stage_at == T + timedelta(days=6)
    assert timeline.transitions[-1].message_id == "referral-6"


def test_a_stage_can_be_skipped_and_the_first_event_may_be_relevant() -> None:
    assert moves([ev(0, "purchase")]) == [(0, None, "customer")]


def test_events_at_one_moment_are_evaluated_together() -> None:
    events = [ev(0, "page_view"), ev(1, "purchase", "a"), ev(1, "purchase", "b")]
    assert moves(events) == [(0, None, "prospect"), (1, "prospect", "repeat_customer")]
    assert stage_timeline(JOURNEY, events).transitions[-1].message_id == "b"


def test_repeat_customer_needs_satisfaction_detractor_answer() -> None:
    events = [ev(0, "purchase"), ev(1, "detractor"), ev(2, "purchase", "p2"), ev(3, "promoter")]
    assert moves(events) == [(0, None, "customer"), (3, "customer", "repeat_customer")]
    assert stage_timeline(JOURNEY, events).detractor is False
    assert stage_timeline(JOURNEY, events[:3]).detractor is True


def test_a_passive_answer_after_a_detractor_one_satisfies() -> None:
    events = [ev(0, "purchase"), ev(1, "purchase", "p2"), ev(2, "detractor"), ev(3, "passive")]
    assert moves(events) == [(0, None, "customer"), (1, "customer", "repeat_customer"),
                             (2, "repeat_customer", "customer"),
                             (3, "customer", "repeat_customer")]  # fmt: skip


def test_an_open_complaint_downgrades_until_resolved() -> None:
    events = [ev(0, "purchase"), ev(1, "purchase", "p2"), ev(10, "complaint"),
              ev(20, "resolution")]  # fmt: skip
    negatives = [(T + timedelta(days=10), T + timedelta(days=20))]
    assert moves(events, negatives) == [
        (0, None, "customer"), (1, "customer", "repeat_customer"),
        (10, "repeat_customer", "customer"), (20, "customer", "repeat_customer"),
    ]  # fmt: skip
    still_open = [(T + timedelta(days=10), None)]
    assert moves(events, still_open)[-1] == (10, "repeat_customer", "customer")


def test_a_complaint_before_the_second_purchase_blocks_it() -> None:
    events = [ev(0, "purchase"), ev(1, "complaint"), ev(2, "purchase", "p2"), ev(3, "resolution")]
    negatives = [(T + timedelta(days=1), T + timedelta(days=3))]
    assert moves(events, negatives) == [(0, None, "customer"), (3, "customer", "repeat_customer")]


def test_advocate_window_in_and_out() -> None:
    events = [ev(0, "purchase"), ev(10, "review"), ev(100, "content_share")]
    assert moves(events)[-1] == (100, "customer", "advocate")
    # 180 days after the review the window holds one share: back down at the next event
    later = [*events, ev(189, "purchase", "p2"), ev(191, "purchase", "p3")]
    assert moves(later)[-2:] == [(100, "customer", "advocate"),
                                 (191, "advocate", "repeat_customer")]  # fmt: skip
    # the window is (t - 180 days, t]: exactly 180 days later the review no longer counts
    edge = [*events, ev(190, "app_open"), ev(190, "purchase", "p2")]
    assert moves(edge)[-1] == (190, "advocate", "repeat_customer")


def test_advocacy_alone_without_a_purchase_is_not_advocate() -> None:
    assert moves([ev(0, "review"), ev(1, "referral")]) == [(0, None, "prospect")]


def test_late_events_give_the_same_transitions_in_any_order() -> None:
    events = [ev(0, "page_view"), ev(1, "signup"), ev(2, "purchase"), ev(3, "complaint"),
              ev(4, "purchase", "p2"), ev(5, "resolution"), ev(6, "review"), ev(7, "referral"),
              ev(200, "promoter"), ev(201, "detractor"), ev(202, "purchase", "p3")]  # fmt: skip
    negatives = [(T + timedelta(days=3), T + timedelta(days=5))]
    expected = stage_timeline(JOURNEY, events, negatives)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = events[:]
        rng.shuffle(shuffled)
        assert stage_timeline(JOURNEY, shuffled, negatives) == expected


def test_custom_rules_and_min_counts() -> None:
    journey = JourneySettings(stages=[
        StageRule(name="visitor"),
        StageRule(name="regular", when=[StageCondition(events=["visit"], min_count=3,
                                                       within_days=7)]),
    ])  # fmt: skip
    events = [ev(0, "visit"), ev(1, "visit"), ev(2, "visit"), ev(20, "visit")]
    got = [(t.from_stage, t.to_stage) for t in stage_timeline(journey, events).transitions]
    assert got == [(None, "visitor"), ("visitor", "regular"), ("regular", "visitor")]


@pytest.mark.parametrize("answer", ["detractor", "promoter"])
def test_detractor_flag_is_the_last_nps_answer(answer: str) -> None:
    timeline = stage_timeline(JOURNEY, [ev(0, "detractor"), ev(1, answer)])
    assert timeline.detractor is (answer == "detractor")


def test_replaying_from_a_known_stage_gives_the_same_changes_as_a_full_replay() -> None:
    kinds = ["page_view", "signup", "add_to_cart", "purchase", "purchase", "review", "referral",
             "content_share", "complaint", "resolution", "detractor", "promoter"]  # fmt: skip
    rng = random.Random(5)
    for _ in range(200):
        events = [ev(rng.uniform(0, 500), rng.choice(kinds), f"m{i}") for i in range(12)]
        starts = sorted(rng.uniform(0, 500) for _ in range(2))
        negatives = [(T + timedelta(days=starts[0]), T + timedelta(days=starts[1]))]
        full = stage_timeline(JOURNEY, events, negatives)
        since = rng.choice(events).occurred_at
        before = [t for t in full.transitions if t.at < since]
        if not before:
            continue
        fast = stage_timeline(JOURNEY, events, negatives, since=since,
                              stage_before=before[-1].to_stage)  # fmt: skip
        assert fast.transitions == [t for t in full.transitions if t.at >= since]
        assert (fast.stage, fast.detractor) == (full.stage, full.detractor)
        assert fast.stage_at == (full.stage_at if fast.transitions else None)
