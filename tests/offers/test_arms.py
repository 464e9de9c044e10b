"""The bandit's counts as a process keeps them: its own bumps at once, others' within TTL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from hxpulse.offers import arms
from hxpulse.offers.catalogue import active_offers
from tests.conftest import T0
from tests.offers.helpers import catalogue


def test_the_copy_adds_its_own_bumps_and_reads_others_after_a_second(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = [100.0]
    monkeypatch.setattr(arms, "clock", lambda: ticks[0])
    catalogue(engine, T0, {"key": "a", "name": "A", "kind": "content"})
    with engine.begin() as conn:
        offers = active_offers(conn)
        (offer_id,) = offers.key_ids.values()
        shown, _ = arms.counts(conn, offers, "steady", T0)
        assert shown.tolist() == [0.0]
        arms.bump(conn, [(offer_id, "steady")], shown=2)  # this process: seen at once
        assert arms.counts(conn, offers, "steady", T0)[0].tolist() == [2.0]
        # another process's answer: not seen within the second, seen after it
        conn.execute(text("UPDATE offer_arms SET accepted = 1"))
        assert arms.counts(conn, offers, "steady", T0)[1].tolist() == [0.0]
        ticks[0] += arms.TTL
        assert arms.counts(conn, offers, "steady", T0)[1].tolist() == [1.0]
        conn.execute(text("UPDATE offer_arms SET accepted = 2"))
        arms.forget()
        assert arms.counts(conn, offers, "steady", T0)[1].tolist() == [2.0]
