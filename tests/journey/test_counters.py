"""The stored counters: going on from them gives what the full replay (the definition) gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hxpulse.config import JourneySettings, StageCondition, StageRule
from hxpulse.journey.definition import BY_TIME, Rules, StageEvent, decode, encode, replay

T = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ["page_view", "signup", "add_to_cart", "purchase", "review", "referral",
         "content_share", "complaint", "resolution", "detractor", "promoter", "visit"]  # fmt: skip
DEFAULT = Rules.of(JourneySettings())
# windowed counters with min counts above 1 (only the latest times are stored) and one counter
# shared by two conditions
CUSTOM = Rules.of(JourneySettings(stages=[
    StageRule(name="visitor"),
    StageRule(name="regular", when=[StageCondition(events=["visit"], min_count=3, within_days=7)]),
    StageRule(name="buyer", when=[StageCondition(events=["purchase"], min_count=2),
                                  StageCondition(events=["visit"], min_count=2, within_days=7)]),
    StageRule(name="fan", when=[StageCondition(events=["review", "referral"], min_count=2,
                                               within_days=3), StageCondition(events=["purchase"])],
              satisfied=True),
]))  # fmt: skip

events_st = st.lists(
    st.tuples(st.integers(0, 60), st.sampled_from([0.0, 0.25, 0.5]), st.sampled_from(KINDS)),
    min_size=1, max_size=30,
)  # fmt: skip
spans_st = st.lists(st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(0, 20))),
                    max_size=3)  # fmt: skip


def build(raw: list[tuple[int, float, str]]) -> list[StageEvent]:
    return sorted((StageEvent(f"m{i}", kind, T + timedelta(days=day + part), "web")
                   for i, (day, part, kind) in enumerate(raw)), key=BY_TIME)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(events_st, spans_st, st.data(), st.sampled_from([DEFAULT, CUSTOM]))
def test_going_on_from_counters_is_the_full_replay(
    raw: list[tuple[int, float, str]],
    raw_spans: list[tuple[int, int | None]],
    data: st.DataObject,
    rules: Rules,
) -> None:
    events = build(raw)
    spans = [(T + timedelta(days=a), None if d is None else T + timedelta(days=a + d))
             for a, d in raw_spans]  # fmt: skip
    full, end = replay(rules, events, spans, None, -1)
    moments = sorted({e.occurred_at for e in events})
    cut = data.draw(st.integers(1, len(moments)))  # events before moments[cut] are stored
    before = [e for e in events if e.occurred_at < moments[cut]] if cut < len(moments) else events
    after = events[len(before) :]
    head, stored = replay(rules, before, spans, None, -1)
    assert stored is not None
    kept = decode(rules, encode(rules, stored))  # as stored in customers.journey_counters
    assert kept is not None and kept.until == before[-1].occurred_at
    tail, counters = replay(rules, after, spans, None, rules.index[head.stage], kept)
    assert head.transitions + tail.transitions == full.transitions
    assert (tail.stage, tail.detractor) == (full.stage, full.detractor)
    assert tail.stage_at == (full.stage_at if tail.transitions else None)
    assert counters is not None and end is not None
    assert encode(rules, counters) == encode(rules, end)  # the same counters to go on from


def test_counters_kept_under_other_rules_are_not_used() -> None:
    _, counters = replay(DEFAULT, build([(0, 0, "purchase")]), [], None, -1)
    assert counters is not None
    stored = encode(DEFAULT, counters)
    assert decode(DEFAULT, stored) == counters
    assert decode(CUSTOM, stored) is None
    assert decode(DEFAULT, None) is None
    assert decode(DEFAULT, "not json") is None
    assert decode(DEFAULT, '["x"]') is None


def test_windowed_counters_keep_only_the_times_that_can_still_count() -> None:
    visits = build([(day, 0, "visit") for day in (0, 1, 2, 3, 4, 20, 21, 25)])
    _, counters = replay(CUSTOM, visits, [], None, -1)
    assert counters is not None
    # window 7 days before day 25: days 20, 21, 25 (and at most 3, the largest min_count)
    assert [(t - T).days for t in counters.seen[0]] == [20, 21, 25]
