"""The report's segment filter and breakdown (read from the answers, since membership
changes) agree with hand counts; CSAT and CES figures come out per kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.segments import service as segments
from hxpulse.surveys import report
from tests.conftest import T0
from tests.surveys.helpers import answer, make_survey


def test_segments_filter_and_break_down(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    rows = []
    # app users: 6 promoters, 2 detractors; web users: 1 promoter, 3 detractors
    for i, (channel, score) in enumerate(
        [("app", 10)] * 6 + [("app", 3)] * 2 + [("web", 9)] + [("web", 0)] * 3
    ):
        rows.append(
            {
                "survey": "Relationship NPS",
                "score": score,
                "channel": channel,
                "answered_at": (T0 + timedelta(hours=i)).isoformat(),
                "user_id": f"u{i}",
            }
        )
    answer(engine, settings, T0, *rows)
    with engine.begin() as conn:
        segments.create(
            conn,
            settings.live,
            name="App people",
            description=None,
            definition={"event": {"type": "survey_response", "channel": "app"}},
            now=T0,
        )
        segments.create(
            conn,
            settings.live,
            name="Everyone",
            description=None,
            definition={"event": {"type": "survey_response"}},
            now=T0,
        )
    with engine.connect() as conn:
        seg = segments.find(conn, "App people")
        only = report.report(conn, settings.live, segment=seg, now=T0 + timedelta(days=1))
        assert (only["overall"]["promoters"], only["overall"]["detractors"]) == (6, 2)
        assert only["overall"]["nps"] == pytest.approx(50.0)
        split = report.report(conn, settings.live, by="segment", now=T0 + timedelta(days=1))
    groups = {g["segment"]: g for g in split["groups"]}
    assert groups["App people"]["n"] == 8 and groups["Everyone"]["n"] == 12
    assert split["overall"]["n"] == 12  # overlapping segments are not counted twice
    assert groups["Everyone"]["nps"] == pytest.approx(100 * (7 - 5) / 12)


def test_csat_and_ces_figures(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0, name="Support CSAT", kind="csat")
    make_survey(engine, settings, T0, name="Returns CES", kind="ces")
    scores = [5, 5, 4, 2, 1, 3, 4, 5]
    answer(
        engine,
        settings,
        T0,
        *[
            {
                "survey": "Support CSAT",
                "score": s,
                "user_id": f"a{i}",
                "answered_at": T0.isoformat(),
            }
            for i, s in enumerate(scores)
        ],
    )
    answer(
        engine,
        settings,
        T0,
        *[
            {"survey": "Returns CES", "score": s, "user_id": f"b{i}", "answered_at": T0.isoformat()}
            for i, s in enumerate([7, 6, 2, 5])
        ],
    )
    with engine.connect() as conn:
        csat = report.report(conn, settings.live, kind="csat", now=T0)["overall"]
        ces = report.report(conn, settings.live, kind="ces", now=T0)["overall"]
    assert csat["n"] == 8 and csat["satisfied"] == 5 and csat["csat"] == pytest.approx(62.5)
    assert ces["n"] == 4 and ces["mean"] == pytest.approx(5.0) and ces["easy"] == 3


@pytest.mark.parametrize(("value", "label"), [
    ("2026-06-01", "1 Jun 2026"), ("2025-12-29", "29 Dec 2025"), ("2026-01", "Jan 2026"),
    ("2026-13", "2026-13"), ("not a date", "not a date"),
])  # fmt: skip
def test_periods_are_named_as_people_read_them(value: str, label: str) -> None:
    assert report.period_label(value) == label
