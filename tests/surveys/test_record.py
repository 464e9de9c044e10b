"""Recording answers: events on the customer (pulse, journey), the answer row with its
sentiment and flag, rolled-up counts equal to the raw answers, idempotence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from hxpulse.config import Settings
from hxpulse.errors import Invalid
from hxpulse.surveys import report, service
from tests.conftest import T0
from tests.surveys.helpers import answer, make_survey


def test_an_answer_is_an_event_and_moves_the_journey(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    got = answer(
        engine,
        settings,
        T0,
        {
            "survey": "Relationship NPS",
            "score": 3,
            "answered_at": T0.isoformat(),
            "email": "Ann@Example.com",
            "why": "The delivery was late and support was rude.",
        },
    )
    assert (got.received, got.stored, got.duplicates) == (1, 1, 0)
    with engine.connect() as conn:
        types = sorted(conn.execute(text("SELECT type FROM events")).scalars())
        assert types == ["detractor", "survey_response"]
        row = conn.execute(
            text("SELECT score, band, flagged, sentiment, customer_id FROM survey_responses")
        ).one()
        assert (row.score, row.band, bool(row.flagged)) == (3, "detractor", True)
        assert row.sentiment < 0
        detractor, negatives = conn.execute(
            text("SELECT detractor, open_negatives FROM customers WHERE id = :i"),
            {"i": row.customer_id},
        ).one()
        assert bool(detractor) is True and negatives == 1


def test_a_resend_adds_nothing(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    row = {
        "survey": "Relationship NPS",
        "score": 10,
        "answered_at": T0.isoformat(),
        "user_id": "u1",
        "message_id": "m-1",
        "why": "Great!",
    }
    answer(engine, settings, T0, row)
    again = answer(engine, settings, T0, row)
    assert (again.stored, again.duplicates) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_responses")).scalar() == 1
        assert conn.execute(text("SELECT sum(c10) FROM survey_score_counts")).scalar() == 1


def test_a_score_off_the_scale_names_the_field(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0, kind="csat", name="Support CSAT")
    with pytest.raises(Invalid) as caught:
        answer(
            engine,
            settings,
            T0,
            {"survey": "Support CSAT", "score": 0, "answered_at": T0.isoformat(), "user_id": "u"},
        )
    assert "1 to 5" in caught.value.message and caught.value.errors[0]["field"] == "score"


def test_rolled_up_counts_equal_the_answers(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    rows = []
    for i in range(120):
        rows.append(
            {
                "survey": "Relationship NPS",
                "score": (i * 7) % 11,
                "answered_at": (T0 + timedelta(hours=13 * i)).isoformat(),
                "user_id": f"u{i % 40}",
                "department": ["Support", "Sales", None][i % 3],
                "channel": ["web", "email"][i % 2],
            }
        )
    answer(engine, settings, T0, *rows[:70])
    answer(engine, settings, T0, *rows[70:])
    with engine.connect() as conn:
        got = report.report(conn, settings.live, by="department", period="week", now=T0)
        direct = {}
        for dept, score, n in conn.execute(
            text(
                "SELECT department, score, count(*) FROM survey_responses GROUP BY department, score"
            )
        ):
            direct.setdefault(dept, [0] * 11)[score] += n
        totals = {}
        for g in got["groups"]:
            cell = totals.setdefault(g["department"], [0, 0, 0])
            for i, key in enumerate(("promoters", "passives", "detractors")):
                cell[i] += g[key]
        for dept, counts in direct.items():
            assert totals[dept] == [sum(counts[9:]), sum(counts[7:9]), sum(counts[:7])]
        assert got["overall"]["n"] == 120
        before = conn.execute(select(func.count()).select_from(service.counts_t)).scalar()
    with engine.begin() as conn:
        assert service.rebuild_counts(conn) == before
        again = report.report(conn, settings.live, by="department", period="week", now=T0)
    assert again == got


TEXTS = {
    "delivery": [
        "The parcel arrived late",
        "Delivery was slow and the parcel late",
        "Late delivery again",
        "My parcel delivery took two weeks",
    ],
    "staff": [
        "Friendly staff, very helpful",
        "The staff were rude",
        "Helpful friendly staff",
        "Staff in the shop were friendly",
    ],
    "price": [
        "Prices are too high",
        "Good value for the price",
        "Cheap prices, great value",
        "The price went up again",
    ],
}


def test_new_answers_get_the_fitted_themes(engine: Engine, settings: Settings) -> None:
    from hxpulse.surveys import themes

    make_survey(engine, settings, T0)
    rows = [
        {
            "survey": "Relationship NPS",
            "score": i % 11,
            "why": text_,
            "answered_at": T0.isoformat(),
            "user_id": f"u{i}",
        }
        for i, text_ in enumerate(t for group in TEXTS.values() for t in group * 5)
    ]
    answer(engine, settings, T0, *rows)
    with engine.begin() as conn:
        assert themes.fit(conn, now=T0, n_themes=3)["themes"] == 3
    with engine.connect() as conn:
        found = {t["name"]: t for t in themes.drivers(conn)["themes"]}
    delivery = next(name for name in found if "delivery" in name or "parcel" in name)
    before = found[delivery]["mentions"]
    answer(
        engine,
        settings,
        T0,
        {
            "survey": "Relationship NPS",
            "score": 2,
            "user_id": "late",
            "why": "The parcel delivery was late",
            "answered_at": T0.isoformat(),
        },
    )
    with engine.connect() as conn:
        after = {t["name"]: t for t in themes.drivers(conn)["themes"]}
        themed = conn.execute(text("SELECT count(*) FROM survey_responses WHERE themed")).scalar()
    assert after[delivery]["mentions"] == before + 1
    assert themed == len(rows) + 1
