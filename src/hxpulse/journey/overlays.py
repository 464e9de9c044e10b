"""The overlays on top of a stage, as SQL conditions on `customers` (for lists, funnels, segments).

- at-risk: the pulse is in the at-risk band, or a negative experience is unresolved, or the
  last NPS answer was a detractor's;
- lapsed: no return (purchase, visit, share, ...) for `[journey] lapsed_days`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_

from hxpulse.config import JourneySettings, PulseSettings
from hxpulse.customers.service import customers_t
from hxpulse.pulse.service import model


def at_risk_band(pulse: PulseSettings, now: datetime) -> ColumnElement[bool]:
    """Pulse below the lowest band's threshold now (an index range on the key S)."""
    lowest = min(pulse.bands.values()) if pulse.bands else 0.0
    return customers_t.c.pulse_key < model(pulse).key_threshold(lowest, now)


def at_risk(pulse: PulseSettings, now: datetime) -> ColumnElement[bool]:
    c = customers_t.c
    return or_(at_risk_band(pulse, now), c.open_negatives > 0, c.detractor.is_(True))


def lapsed(journey: JourneySettings, now: datetime) -> ColumnElement[bool]:
    c = customers_t.c
    cutoff = now - timedelta(days=journey.lapsed_days)
    return and_(c.last_return_at.is_not(None), c.last_return_at < cutoff)
