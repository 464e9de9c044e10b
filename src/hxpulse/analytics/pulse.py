"""The customer pulse: Pulse = Investments + Returns − Relationship Decay.

Each event i of a customer has a weight w_i (negative for bad experiences) and a time t_i.
With decay rate λ = ln 2 / half-life,

    P(t) = Σ_i w_i · e^(−λ (t − t_i))                        the pulse now
    I(t) = Σ investments w_i,   R(t) = Σ returns and experiences w_i     (undecayed)
    D(t) = I(t) + R(t) − P(t)                                 so that P = I + R − D exactly.

The store keeps, per customer, the decay-invariant key S = Σ_i w_i · e^(λ (t_i − T0)) for a
fixed epoch T0, so that P(t) = S · e^(−λ (t − T0)). An event adds one term to S (O(1), in any
order: late events are exact); and because e^(−λ (t − T0)) is the same for every customer,
ordering customers by S orders them by pulse at any moment, and `P(t) < x` is `S < x·g(t)`
with g(t) = e^(λ (t − T0)).

An unresolved negative experience weighs `negative_multiplier` (12) times its weight. Resolving
it removes the extra (multiplier − 1)·w term from S exactly as it was added, so from then on the
experience counts as if it had always weighed w: the extra weight is lifted, decayed to the
moment of resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Component = Literal["investment", "return", "experience"]
SECONDS_PER_DAY = 86_400.0
LN2 = math.log(2.0)


@dataclass(frozen=True, slots=True)
class PulseModel:
    """The decay law: half-life in days, the epoch T0 of the key S, the 12 : 1 multiplier."""

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

    def growth(self, moment: datetime) -> float:
        """g(t) = e^(λ (t − T0)); P(t) = S / g(t)."""
        return math.exp(self.exponent(moment))

    def term(self, weight: float, occurred_at: datetime) -> float:
        """What an event of `weight` at `occurred_at` adds to S."""
        return weight * self.growth(occurred_at)

    def effective_weight(self, weight: float, *, unresolved_negative: bool) -> float:
        """The weight an event counts with now: negatives count 12× while unresolved."""
        return weight * self.negative_multiplier if unresolved_negative else weight

    def pulse(self, key: float, moment: datetime) -> float:
        """P(t) from the stored key S."""
        return key / self.growth(moment)

    def key_threshold(self, pulse: float, moment: datetime) -> float:
        """The S below which a customer's pulse at `moment` is below `pulse`."""
        return pulse * self.growth(moment)

    def rebased(self, key: float, new_epoch: datetime) -> float:
        """S expressed for `new_epoch` (run before λ (t − T0) nears the float range)."""
        return key * math.exp(
            -self.rate * (new_epoch - self.epoch).total_seconds() / SECONDS_PER_DAY
        )


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One customer's pulse at a moment, with its parts: P = I + R − D."""

    pulse: float
    investments: float
    returns: float
    decay: float


@dataclass(slots=True)
class PulseState:
    """The running sums stored per customer: S and the undecayed I and R."""

    key: float = 0.0
    investments: float = 0.0
    returns: float = 0.0

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
        self.key += model.term(counted, occurred_at)
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
        self.key -= model.term(extra, occurred_at)
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


def band(pulse: float, thresholds: dict[str, float]) -> str:
    """Name the band of `pulse`: the first band (highest threshold first) it reaches.

    `thresholds` maps band names to the lowest pulse in that band, e.g. ``{"thriving": 50,
    "steady": 15, "cooling": 3}``; a pulse below all of them is ``"at-risk"``.
    """
    for name, lowest in sorted(thresholds.items(), key=lambda item: -item[1]):
        if pulse >= lowest:
            return name
    return "at-risk"


def purchase_weight(base: float, value: float | None, reference: float) -> float:
    """A purchase's weight grows with its value, slowly: base · (1 + ln(1 + value / reference))."""
    if value is None or value <= 0 or reference <= 0:
        return base
    return base * (1.0 + math.log1p(value / reference))
