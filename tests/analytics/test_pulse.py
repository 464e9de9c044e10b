"""The pulse maths against hand-computed values and brute-force recomputation."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hxpulse.analytics.pulse import (
    Contribution,
    PulseModel,
    PulseState,
    band,
    brute_force,
    purchase_weight,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = PulseModel(half_life_days=30, epoch=T0)


def test_one_event_halves_every_half_life() -> None:
    state = PulseState()
    state.add(MODEL, component="return", weight=10, occurred_at=T0)
    assert state.at(MODEL, T0).pulse == pytest.approx(10)
    later = state.at(MODEL, T0 + timedelta(days=30))
    assert later.pulse == pytest.approx(5)
    assert (later.investments, later.returns, later.decay) == (0, 10, pytest.approx(5))
    assert state.at(MODEL, T0 + timedelta(days=90)).pulse == pytest.approx(1.25)


def test_pulse_is_investments_plus_returns_minus_decay() -> None:
    state = PulseState()
    state.add(MODEL, component="investment", weight=4, occurred_at=T0 + timedelta(days=3))
    state.add(MODEL, component="return", weight=6, occurred_at=T0 + timedelta(days=10))
    now = T0 + timedelta(days=40)
    b = state.at(MODEL, now)
    assert b.pulse == pytest.approx(4 * 2 ** (-37 / 30) + 6 * 2 ** (-30 / 30))
    assert b.investments + b.returns - b.decay == pytest.approx(b.pulse, abs=1e-12)


def test_ordering_by_key_is_ordering_by_pulse_at_any_moment() -> None:
    states = []
    for n in range(6):
        s = PulseState()
        s.add(MODEL, component="return", weight=n + 1, occurred_at=T0 + timedelta(days=7 * n))
        states.append(s)
    by_key = sorted(range(6), key=lambda i: states[i].key)
    for days in (60, 200, 700):
        moment = T0 + timedelta(days=days)
        assert by_key == sorted(range(6), key=lambda i: states[i].at(MODEL, moment).pulse)
        threshold = MODEL.key_threshold(0.5, moment)
        assert [s.key < threshold for s in states] == [
            s.at(MODEL, moment).pulse < 0.5 for s in states
        ]


def test_rebasing_the_epoch_keeps_the_pulse() -> None:
    state = PulseState()
    state.add(MODEL, component="return", weight=3, occurred_at=T0 + timedelta(days=400))
    new_epoch = T0 + timedelta(days=365)
    moved = PulseModel(half_life_days=30, epoch=new_epoch)
    moment = T0 + timedelta(days=420)
    assert moved.pulse(MODEL.rebased(state.key, new_epoch), moment) == pytest.approx(
        state.at(MODEL, moment).pulse
    )


def test_an_unresolved_complaint_weighs_twelve_times_until_resolved() -> None:
    complaint = T0 + timedelta(days=5)
    state = PulseState()
    state.add(MODEL, component="return", weight=10, occurred_at=T0)
    state.add(
        MODEL, component="experience", weight=-2, occurred_at=complaint, unresolved_negative=True
    )
    before = state.at(MODEL, T0 + timedelta(days=10))
    assert before.pulse == pytest.approx(10 * 2 ** (-10 / 30) - 24 * 2 ** (-5 / 30))
    assert before.returns == pytest.approx(10 - 24)
    state.resolve(MODEL, weight=-2, occurred_at=complaint)
    after = state.at(MODEL, T0 + timedelta(days=10))
    assert after.pulse == pytest.approx(10 * 2 ** (-10 / 30) - 2 * 2 ** (-5 / 30))
    assert after.pulse - before.pulse == pytest.approx(
        22 * 2 ** (-5 / 30)
    )  # the extra 11 parts, decayed


def test_model_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="half_life_days"):
        PulseModel(half_life_days=0, epoch=T0)
    with pytest.raises(ValueError, match="timezone"):
        PulseModel(half_life_days=30, epoch=datetime(2026, 1, 1))


def test_bands_and_purchase_weight() -> None:
    thresholds = {"thriving": 50.0, "steady": 15.0, "cooling": 3.0}
    assert [band(p, thresholds) for p in (80, 50, 20, 3, 2.9, -5)] == [
        "thriving", "thriving", "steady", "cooling", "at-risk", "at-risk"]  # fmt: skip
    assert purchase_weight(5, None, 50) == 5
    assert purchase_weight(5, 50, 50) == pytest.approx(5 * (1 + math.log(2)))
    assert purchase_weight(5, 500, 50) < 5 * 4  # grows, but slowly


events = st.lists(
    st.tuples(
        st.sampled_from(["investment", "return", "experience"]),
        st.floats(min_value=-20, max_value=20, allow_nan=False),
        st.integers(min_value=0, max_value=2 * 365 * 24 * 60),  # minutes after T0
        st.sampled_from([None, None, False, True]),  # negative experience: unresolved / resolved
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(events=events, order=st.randoms(use_true_random=False), half_life=st.floats(1, 400))
def test_closed_form_equals_brute_force_in_any_arrival_order(
    events: list[tuple[str, float, int, bool | None]], order: object, half_life: float
) -> None:
    model = PulseModel(half_life_days=half_life, epoch=T0 + timedelta(days=300))
    contributions = [
        Contribution(comp, w if resolved is None else -abs(w), T0 + timedelta(minutes=m), resolved)  # type: ignore[arg-type]
        for comp, w, m, resolved in events
    ]
    arrival = list(contributions)
    order.shuffle(arrival)  # type: ignore[attr-defined]
    state = PulseState()
    for c in arrival:  # late events arrive out of order; negatives arrive unresolved
        state.add(model, component=c.component, weight=c.weight, occurred_at=c.occurred_at,
                  unresolved_negative=c.resolved is not None)  # fmt: skip
    for c in arrival:
        if c.resolved:
            state.resolve(model, weight=c.weight, occurred_at=c.occurred_at, component=c.component)
    moment = T0 + timedelta(days=2 * 365 + 1)
    expected = brute_force(model, contributions, moment)
    got = state.at(model, moment)
    scale = 1 + sum(abs(c.weight) * model.negative_multiplier for c in contributions)
    assert got.pulse == pytest.approx(expected.pulse, abs=1e-9 * scale)
    assert got.investments == pytest.approx(expected.investments, abs=1e-9 * scale)
    assert got.returns == pytest.approx(expected.returns, abs=1e-9 * scale)
    assert got.decay == pytest.approx(expected.decay, abs=1e-9 * scale)
