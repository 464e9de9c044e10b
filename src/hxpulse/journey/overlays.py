"""The overlays on top of a stage, as SQL conditions on `customers` (for lists, funnels,
segments): the at-risk and lapsed bands of `pulse.bands`, one definition everywhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement

from hxpulse.config import Live
from hxpulse.pulse.bands import band_sql, edges


def at_risk(live: Live, now: datetime) -> ColumnElement[bool]:
    """In the at-risk band now: a customer in trouble (module doc of `pulse.bands`)."""
    return band_sql(edges(live, now), "at-risk")


def lapsed(live: Live, now: datetime) -> ColumnElement[bool]:
    """In the lapsed band now: a customer gone quiet."""
    return band_sql(edges(live, now), "lapsed")
