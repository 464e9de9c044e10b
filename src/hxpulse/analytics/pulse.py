"""The customer pulse: Pulse = Investments + Returns − Relationship Decay.

Each event i of a customer has a weight w_i (negative for bad experiences) and a time t_i.
With decay rate λ = ln 2 / half-life,

    P(t) = Σ_i w_i · e^(−λ (t − t_i))                        the pulse now
    I(t) = Σ investments w_i,   R(t) = Σ returns and experiences w_i     (undecayed)
    D(t) = I(t) + R(t) − P(t)                                 so that P = I + R − D exactly.

The store keeps, per customer, one number for the decay-invariant sum S = Σ_i w_i · e^(λ (t_i −
T0)), so that P(t) = S · e^(−λ (t − T0)). With T0 = 1970 and a one-day half-life the exponent
reaches ~14,000 today, far beyond a float, so S is never formed: its *key* is stored instead,

    K = asinh(S)              computed in log space: K = ±(ln|S| + ln 2) once |S| > ~2.4e8,

odd and strictly increasing, ≈ S near zero, ≈ the logarithm beyond. Ordering by K is ordering by
S, hence by pulse at any moment (e^(−λ (t − T0)) is the same for every customer); `P(t) < x` is
`K < key_threshold(x, t)`; adding an event is a signed log-add (`key_add`, O(1), any order: late
events are exact); P(t) = ±e^(ln|S| − λ (t − T0)) is formed only at the end, from differences
of logarithms, so no step overflows or divides by zero. A key carries ~16 significant digits of
ln|S|, so S (and the pulse) to a relative 1e-16 · |K|: 2e-12 at K = 14,000.

An unresolved negative experience weighs `negative_multiplier` (12) times its weight. Resolving
it removes the extra (multiplier − 1)·w term from S exactly as it was added, so from then on the
experience counts as if it had always weighed w: the extra weight is lifted, decayed to the
moment of resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Component = Literal["investment", "return", "experience"]
SECONDS_PER_DAY = 86_400.0
LN2 = math.log(2.0)
# |K| beyond which K = ±(ln|S| + ln 2) exactly in double precision (asinh(x) − ln 2x = 1/(4x²)
# + …, below 5e-18 for x > 2.4e8): there keys are pure logarithms, below it sums are plain
LOG_FROM = 20.0
_RESCALE = 60.0  # a running sum is rescaled when a term is e^60 times its scale


def key_from_log(sign: float, log_abs: float) -> float:
    """The key of S = sign(`sign`) · e^`log_abs`, without forming e^`log_abs` when it is large."""
    if log_abs > LOG_FROM - LN2:
        return math.copysign(log_abs + LN2, sign)
    return math.asinh(math.copysign(math.exp(log_abs), sign))


def log_of(key: float) -> tuple[float, float]:
    """(sign, ln|S|) of the sum S that `key` stands for; ln|S| is −inf for S = 0."""
    sign = math.copysign(1.0, key)
    if abs(key) > LOG_FROM:
        return sign, abs(key) - LN2
    value = abs(math.sinh(key))
    return sign, math.log(value) if value > 0.0 else -math.inf


def key_add(a: float, b: float) -> float:
    """The key of S_a + S_b, for the keys `a` and `b` (a signed log-add, never out of range)."""
    size_a, size_b = abs(a), abs(b)
    if size_a > LOG_FROM and size_b > LOG_FROM and (a > 0) == (b > 0):  # the common case
        return math.copysign(max(size_a, size_b) + math.log1p(math.exp(-abs(size_a - size_b))), a)
    if size_a <= LOG_FROM and size_b <= LOG_FROM:
        return math.asinh(math.sinh(a) + math.sinh(b))  # both sums are plain floats
    if a == 0.0 or b == 0.0:
        return a or b
    sign_a, log_a = log_of(a)
    sign_b, log_b = log_of(b)
    if log_a < log_b:
        sign_a, log_a, sign_b, log_b = sign_b, log_b, sign_a, log_a
    ratio = math.exp(log_b - log_a)  # ≤ 1; a negligible term underflows to 0, harmlessly
    if sign_a != sign_b:
        if ratio == 1.0:
            return 0.0
        ratio = -ratio
    return key_from_log(sign_a, log_a + math.log1p(ratio))


def key_sum(keys: Iterable[float]) -> float:
    """The key of the sum of the sums that `keys` stand for."""
    total = 0.0
    for key in keys:
        total = key_add(total, key)
    return total


@dataclass(slots=True)
class KeySum:
    """A running Σ w·e^x kept as value · e^shift: a float sum's accuracy, never out of range.

    One multiplication and one exp per term (like a plain sum), the logarithm only in `key`.
    """

    value: float = 0.0
    shift: float = 0.0

    def add(self, weight: float, exponent: float) -> None:
        """Add weight · e^exponent."""
        if self.value == 0.0:
            self.value, self.shift = weight, exponent
            return
        gap = exponent - self.shift
        if gap > _RESCALE:
            self.value = self.value * math.exp(-gap) + weight
            self.shift = exponent
        else:
            self.value += weight * math.exp(gap)

    def add_key(self, key: float) -> None:
        """Add the sum that `key` stands for."""
        if key != 0.0:
            sign, log_abs = log_of(key)
            self.add(sign, log_abs)

    def key(self) -> float:
        """The key of the sum so far."""
        if self.value == 0.0:
            return 0.0
        return key_from_log(self.value, math.log(abs(self.value)) + self.shift)


@dataclass(frozen=True, slots=True)
class PulseModel:
    """The decay law: half-life in days, the epoch T0 of the key, the 12 : 1 multiplier."""

    half_life_days: float
    epoch: datetime
    negative_multiplier: float = 12.0

    def __post_init__(self) -> None:
        if not (self.half_life_days > 0 and math.isfinite(self.half_life_days)):
            raise ValueError(f"half_life_days must be a positive number, got {self.half_life_days}")
        if self.epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        if self.negative_multiplier < 1:
            raise ValueError("negative_multiplier must be at least 1")

    @property
    def rate(self) -> float:
        """λ, per day."""
        return LN2 / self.half_life_days

    def exponent(self, moment: datetime) -> float:
        """λ (t − T0) for `moment`."""
        return self.rate * (moment - self.epoch).total_seconds() / SECONDS_PER_DAY

    def term_key(self, weight: float, occurred_at: datetime) -> float:
        """The key of what an event of `weight` at `occurred_at` adds to S: w · e^(λ (t − T0))."""
        if weight == 0.0:
            return 0.0
        return key_from_log(weight, math.log(abs(weight)) + self.exponent(occurred_at))

    def effective_weight(self, weight: float, *, unresolved_negative: bool) -> float:
        """The weight an event counts with now: negatives count 12× while unresolved."""
        return weight * self.negative_multiplier if unresolved_negative else weight

    def pulse(self, key: float, moment: datetime) -> float:
        """P(t) = S · e^(−λ (t − T0)) from the key of S (exact for moments at or after the
        events counted in it; an earlier moment can only exceed the float range: ±inf)."""
        if key == 0.0:
            return 0.0
        sign, log_abs = log_of(key)
        power = log_abs - self.exponent(moment)
        return math.copysign(math.exp(power) if power < 709.0 else math.inf, sign)

    def key_threshold(self, pulse: float, moment: datetime) -> float:
        """The key below which a customer's pulse at `moment` is below `pulse`."""
        if pulse == 0.0:
            return 0.0
        return key_from_log(pulse, math.log(abs(pulse)) + self.exponent(moment))


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One customer's pulse at a moment, with its parts: P = I + R − D."""

    pulse: float
    investments: float
    returns: float
    decay: float


@dataclass(slots=True)
class PulseState:
    """The running sums stored per customer: S (kept as a `KeySum`) and the undecayed I and R."""

    terms: KeySum = field(default_factory=KeySum)
    investments: float = 0.0
    returns: float = 0.0

    @property
    def key(self) -> float:
        """The key of S."""
        return self.terms.key()

    def add(
        self,
        model: PulseModel,
        *,
        component: Component,
        weight: float,
        occurred_at: datetime,
        unresolved_negative: bool = False,
    ) -> None:
        """Count one event (in any order: the sums do not depend on arrival order)."""
        counted = model.effective_weight(weight, unresolved_negative=unresolved_negative)
        self.terms.add(counted, model.exponent(occurred_at))
        if component == "investment":
            self.investments += counted
        else:
            self.returns += counted

    def resolve(
        self,
        model: PulseModel,
        *,
        weight: float,
        occurred_at: datetime,
        component: Component = "experience",
    ) -> None:
        """Lift the extra weight of a negative experience that has now been resolved."""
        extra = weight * (model.negative_multiplier - 1.0)
        self.terms.add(-extra, model.exponent(occurred_at))
        if component == "investment":
            self.investments -= extra
        else:
            self.returns -= extra

    def at(self, model: PulseModel, moment: datetime) -> Breakdown:
        """The pulse and its parts at `moment` (all counted events must be at or before it)."""
        pulse = model.pulse(self.key, moment)
        return Breakdown(pulse, self.investments, self.returns,
                         self.investments + self.returns - pulse)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Contribution:
    """One event as the brute-force formula sees it."""

    component: Component
    weight: float
    occurred_at: datetime
    resolved: bool | None = None  # None: not a negative experience
    resolved_at: datetime | None = None  # when it was resolved (counts 12x before, if known)

    def unresolved_at(self, moment: datetime) -> bool:
        """Whether this is a negative experience still counting 12x at `moment`."""
        if self.resolved is None:
            return False
        if not self.resolved:
            return True
        return self.resolved_at is not None and moment < self.resolved_at


def brute_force(model: PulseModel, events: Iterable[Contribution], moment: datetime) -> Breakdown:
    """P, I, R, D at `moment` straight from the definition, over events up to `moment`.

    The reference the closed form is tested against, and what reconstructs a pulse history.
    """
    pulse = investments = returns = 0.0
    for event in events:
        if event.occurred_at > moment:
            continue
        counted = model.effective_weight(
            event.weight, unresolved_negative=event.unresolved_at(moment)
        )
        days = (moment - event.occurred_at).total_seconds() / SECONDS_PER_DAY
        pulse += counted * math.exp(-model.rate * days)
        if event.component == "investment":
            investments += counted
        else:
            returns += counted
    return Breakdown(pulse, investments, returns, investments + returns - pulse)


# the bands of a relationship (hxpulse.pulse.bands): customers', then prospects' and leads'
CUSTOMER_BANDS = ("thriving", "steady", "at-risk", "lapsed")
EARLY_BANDS = ("warm", "cold")
BANDS = (*CUSTOMER_BANDS, *EARLY_BANDS)


def purchase_weight(base: float, value: float | None, reference: float) -> float:
    """A purchase's weight grows with its value, slowly: base · (1 + ln(1 + value / reference))."""
    if value is None or value <= 0 or reference <= 0:
        return base
    return base * (1.0 + math.log1p(value / reference))
