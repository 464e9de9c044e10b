"""The pulse maths against hand-computed values and brute-force recomputation."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hxpulse.analytics.pulse import (
    LN2,
    Contribution,
    KeySum,
    PulseModel,
    PulseState,
    brute_force,
    key_add,
    key_from_log,
    key_sum,
    log_of,
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


def test_keys_add_and_order_like_the_sums_they_stand_for() -> None:
    # plain sums: the key is asinh(S)
    assert key_add(math.asinh(3.0), math.asinh(4.0)) == pytest.approx(math.asinh(7.0), rel=1e-15)
    assert key_add(math.asinh(3.0), math.asinh(-3.0)) == 0.0
    # beyond 2.4e8 the key is ln|S| + ln 2: S = e^1000 doubled, halved, cancelled, negated
    big = key_from_log(1.0, 1000.0)
    assert big == 1000.0 + LN2 and log_of(big) == (1.0, 1000.0)
    assert key_add(big, big) == pytest.approx(1000.0 + 2 * LN2, rel=1e-15)
    assert key_add(big, key_from_log(-1.0, 1000.0 - LN2)) == pytest.approx(1000.0, rel=1e-15)
    assert key_add(big, -big) == 0.0 and key_add(-big, 0.0) == -big
    # a big sum minus almost all of it falls back among plain sums: S = e^30 · (1 − e^−30) − …
    assert key_add(key_from_log(1.0, 30.0), key_from_log(-1.0, 30.0 + math.log1p(-1e-9))) == (
        pytest.approx(math.asinh(math.exp(30.0) * 1e-9), rel=1e-6)
    )
    assert key_sum([math.asinh(1.0)] * 10) == pytest.approx(math.asinh(10.0), rel=1e-14)
    keys = [math.asinh(v) for v in (-1e9, -5.0, -1e-300, 0.0, 2.0, 3e8)] + [
        key_from_log(1.0, 800.0), key_from_log(1.0, 14_000.0)]  # fmt: skip
    assert keys == sorted(keys)
    running = KeySum()
    for weight, exponent in [(5.0, 14_000.0), (2.0, 10.0), (-5.0, 14_000.0)]:
        running.add(weight, exponent)
    assert running.key() == 0.0  # the newest terms cancel; the old one is far below their ulp


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_a_1997_history_at_a_seven_day_half_life_keeps_its_pulse() -> None:
    """The CDNOW case: T0 = 1970, events in 1997, asked in 1997 and today."""
    weekly = PulseModel(half_life_days=7, epoch=EPOCH)
    state = PulseState()
    state.add(weekly, component="return", weight=10, occurred_at=datetime(1997, 12, 3, tzinfo=UTC))
    state.add(weekly, component="investment", weight=4,
              occurred_at=datetime(1997, 12, 24, tzinfo=UTC))  # fmt: skip
    asked = datetime(1997, 12, 31, tzinfo=UTC)
    got = state.at(weekly, asked)
    assert got.pulse == pytest.approx(10 / 16 + 4 / 2, rel=1e-12)  # 4 and 1 half-lives ago
    assert got.decay == pytest.approx(14 - 10 / 16 - 2, rel=1e-12)
    # today it is 4 · 2^(−1461) ≈ 1e-439: below the float range, so 0.0, and no error
    assert state.at(weekly, datetime(2026, 1, 1, tzinfo=UTC)).pulse == 0.0
    assert weekly.key_threshold(2.6, asked) < state.key < weekly.key_threshold(2.65, asked)


def test_a_one_day_half_life_from_1970_to_now() -> None:
    daily = PulseModel(half_life_days=1, epoch=EPOCH)
    now = datetime.now(UTC)
    state = PulseState()
    state.add(daily, component="return", weight=8, occurred_at=EPOCH)
    state.add(daily, component="return", weight=8, occurred_at=now - timedelta(days=3))
    assert state.key > 14_000  # ln S: S itself is e^14,000
    assert state.at(daily, now).pulse == pytest.approx(1.0, rel=1e-11)
    assert daily.pulse(state.key, now + timedelta(days=1)) == pytest.approx(0.5, rel=1e-11)
    alone = PulseState()
    alone.add(daily, component="return", weight=8, occurred_at=EPOCH)
    assert alone.at(daily, EPOCH + timedelta(days=2)).pulse == pytest.approx(2.0, rel=1e-14)
    assert alone.key < state.key  # one index orders 1970's keys and today's


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


def test_purchase_weight() -> None:
    assert purchase_weight(5, None, 50) == 5
    assert purchase_weight(5, 50, 50) == pytest.approx(5 * (1 + math.log(2)))
    assert purchase_weight(5, 500, 50) < 5 * 4  # grows, but slowly


LATEST = datetime.now(UTC) + timedelta(days=1)  # the latest moment accepted
SPAN = (LATEST - EPOCH).total_seconds()
TEN_YEARS = 3652.5


@st.composite
def history(draw: st.DrawFn, latest: float) -> list[Contribution]:
    """Up to 30 events at or before `latest` (seconds after 1970), packed within minutes or
    spread over decades; mixed signs, and negatives open or resolved."""
    spread = draw(st.sampled_from([0.0, 3600.0, 40 * 86400.0, 4 * 365 * 86400.0, SPAN]))
    items = draw(st.lists(st.tuples(
        st.sampled_from(["investment", "return", "experience"]),
        st.one_of(st.floats(-20, 20), st.sampled_from([0.2, 10.0, 33.7, -5.0, 1e-3])),
        st.floats(0, 1),
        st.sampled_from([None, None, False, True]),  # a negative experience: open / resolved
    ), min_size=1, max_size=30))  # fmt: skip
    return [
        Contribution(component, weight if resolved is None else -abs(weight) or -1.0,  # type: ignore[arg-type]
                     EPOCH + timedelta(seconds=max(0.0, latest - share * spread)), resolved)
        for component, weight, share, resolved in items
    ]  # fmt: skip


@st.composite
def cases(draw: st.DrawFn) -> tuple[PulseModel, list[list[Contribution]], datetime]:
    """A half-life from 1 day to 10 years, a few customers' histories anywhere from 1970 to
    now + 1 day, and a moment at or after all their events (up to now + 1 day)."""
    law = PulseModel(half_life_days=draw(st.floats(1, TEN_YEARS)), epoch=EPOCH)
    latest = draw(st.floats(0, SPAN))
    near = st.floats(max(0.0, latest - 30 * law.half_life_days * 86400), latest)
    customers = draw(st.lists(near.flatmap(history), min_size=1, max_size=5))
    last = max(c.occurred_at for h in customers for c in h)
    later = draw(st.sampled_from([0.0, 1e-3, 0.5, 3.0, 40.0])) * draw(st.floats(0, 1))
    asked = min(LATEST, last + timedelta(days=later * law.half_life_days))
    return law, customers, max(asked, last)


def closed_form(law: PulseModel, contributions: list[Contribution], order: object) -> PulseState:
    arrival = list(contributions)
    order.shuffle(arrival)  # type: ignore[attr-defined]
    state = PulseState()
    for c in arrival:  # late events arrive out of order; negatives arrive unresolved
        state.add(law, component=c.component, weight=c.weight, occurred_at=c.occurred_at,
                  unresolved_negative=c.resolved is not None)  # fmt: skip
    for c in arrival:
        if c.resolved:
            state.resolve(law, weight=c.weight, occurred_at=c.occurred_at, component=c.component)
    return state


def tolerance(law: PulseModel, contributions: list[Contribution], moment: datetime) -> float:
    """1e-9 of the sum of the magnitudes of the terms at `moment` (exp of differences only)."""
    days = [(moment - c.occurred_at).total_seconds() / 86_400 for c in contributions]
    return 1e-300 + 1e-9 * sum(abs(c.weight) * law.negative_multiplier * math.exp(-law.rate * d)
                               for c, d in zip(contributions, days, strict=True))  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(case=cases(), order=st.randoms(use_true_random=False), x=st.floats(-60, 60))
def test_closed_form_equals_brute_force_from_1970_at_any_half_life(
    case: tuple[PulseModel, list[list[Contribution]], datetime], order: object, x: float
) -> None:
    law, customers, moment = case
    states = [closed_form(law, h, order) for h in customers]
    expected = [brute_force(law, h, moment) for h in customers]
    tolerances = [tolerance(law, h, moment) for h in customers]
    for state, want, tol in zip(states, expected, tolerances, strict=True):
        got = state.at(law, moment)
        assert got.pulse == pytest.approx(want.pulse, abs=tol)
        assert got.investments == pytest.approx(want.investments, rel=1e-12, abs=1e-9)
        assert got.returns == pytest.approx(want.returns, rel=1e-12, abs=1e-9)
        assert got.decay == pytest.approx(want.decay, rel=1e-9, abs=tol + 1e-9)
    # one key orders every customer by pulse, and a threshold on the key is one on the pulse
    pulses = [w.pulse for w in expected]
    threshold = law.key_threshold(x, moment)
    for i, (state, pulse, tol) in enumerate(zip(states, pulses, tolerances, strict=True)):
        if abs(pulse - x) > tol:
            assert (state.key < threshold) == (pulse < x)
        for other, pulse_o, tol_o in zip(states[i + 1 :], pulses[i + 1 :], tolerances[i + 1 :],
                                         strict=True):  # fmt: skip
            if abs(pulse - pulse_o) > tol + tol_o:
                assert (state.key < other.key) == (pulse < pulse_o)
