"""One customer's pulse replayed from their event log: for rebuilds, explanations and curves.

The live path (pulse/live.py) reaches the same sums one batch at a time; replaying the log in
time order is the reference it is tested against, and what `hxpulse pulse --rebuild` writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from hxpulse.analytics.pulse import (
    Component,
    Contribution,
    PulseModel,
    PulseState,
)
from hxpulse.config import PulseSettings


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """The columns of a stored event that the pulse reads."""

    message_id: str
    type: str
    occurred_at: datetime
    value: float | None = None
    resolves: str | None = None  # a resolution's `properties.resolves`: the negative it names


@dataclass(slots=True)
class Negative:
    """A negative experience and, once resolved, when and by what."""

    message_id: str
    event_type: str
    component: Component
    weight: float  # the plain (1x) weight, below zero
    occurred_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None


@dataclass(slots=True)
class Replay:
    """The result of replaying a log: the sums, the negatives, and each event's contribution."""

    state: PulseState = field(default_factory=PulseState)
    negatives: list[Negative] = field(default_factory=list)
    contributions: list[tuple[LoggedEvent, Contribution]] = field(default_factory=list)
    last_return_at: datetime | None = None
    # resolutions that named a negative not in the log (yet): message id -> (when, by what)
    early: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    @property
    def open_negatives(self) -> int:
        return sum(1 for n in self.negatives if n.resolved_at is None)


def pick_negative(
    open_ones: list[Negative], resolves: str | None, moment: datetime
) -> Negative | None:
    """The negative a resolution at `moment` resolves: the one it names, else the oldest open
    one that happened before it."""
    if resolves:
        return next((n for n in open_ones if n.message_id == resolves), None)
    return next((n for n in open_ones if n.occurred_at <= moment), None)


def replay(
    settings: PulseSettings, law: PulseModel, events: Iterable[LoggedEvent], now: datetime
) -> Replay:
    """Replay `events` (any order) in time order; events dated after `now` count as now.

    At one moment resolutions come after the other events, as in a batch on the live path
    (negatives recorded first): a resolution resolves a negative of the same moment.
    """
    result = Replay()
    open_ones: list[Negative] = []
    early = result.early  # named negatives resolved before they arrived
    resolving = {t for t, w in settings.weights.items() if w.resolves}
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.type in resolving, e.message_id))
    for event in ordered:
        weighed = settings.weigh(event.type, event.value)
        if weighed is None:
            continue
        mapped, weight = weighed
        moment = min(event.occurred_at, now)
        negative = mapped.negative and weight < 0
        result.state.add(law, component=mapped.component, weight=weight, occurred_at=moment,
                         unresolved_negative=negative)  # fmt: skip
        contribution = Contribution(mapped.component, weight, moment, False if negative else None)
        if negative:
            found = Negative(event.message_id, event.type, mapped.component, weight, moment)
            result.negatives.append(found)
            if event.message_id in early:
                found.resolved_at, found.resolved_by = early.pop(event.message_id)
                result.state.resolve(law, weight=weight, occurred_at=moment,
                                     component=mapped.component)  # fmt: skip
            else:
                open_ones.append(found)
        if mapped.component == "return":
            result.last_return_at = max(result.last_return_at or moment, moment)
        if mapped.resolves:
            target = pick_negative(open_ones, event.resolves, moment)
            if target is None and event.resolves:
                early[event.resolves] = (moment, event.message_id)
            elif target is not None:
                open_ones.remove(target)
                target.resolved_at, target.resolved_by = moment, event.message_id
                result.state.resolve(law, weight=target.weight, occurred_at=target.occurred_at,
                                     component=target.component)  # fmt: skip
        result.contributions.append((event, contribution))
    resolved = {n.message_id: n.resolved_at for n in result.negatives if n.resolved_at}
    result.contributions = [
        (e, _resolved(c, resolved.get(e.message_id))) for e, c in result.contributions
    ]
    return result


def _resolved(contribution: Contribution, resolved_at: datetime | None) -> Contribution:
    if contribution.resolved is None or resolved_at is None:
        return contribution
    return Contribution(contribution.component, contribution.weight, contribution.occurred_at,
                        True, resolved_at)  # fmt: skip
