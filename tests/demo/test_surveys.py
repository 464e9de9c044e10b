"""The demo's surveys: simulated answers that follow what happened to each customer, with
why-texts varied enough that the theme finder finds real themes in them."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import Engine, text

from hxpulse.advocacy import report as advocacy_report
from hxpulse.analytics import sentiment
from hxpulse.config import Settings
from hxpulse.demo import surveys
from hxpulse.demo.cdnow import demo_events, read_purchases
from hxpulse.demo.load import load

TODAY = date(2026, 11, 23)
CUSTOMERS = 3000  # the first CDNOW customers: enough answers for the themes of a full load


def test_why_texts_are_varied_deterministic_and_feel_like_their_score() -> None:
    def write(seed: int) -> dict[str, list[str | None]]:
        writer = surveys.Writer(random.Random(seed))
        pick = random.Random(seed)
        return {
            tone: [writer.why(tone, pick.sample(surveys.THEMES, 2)) for _ in range(2000)]
            for tone in ("pos", "tip", "neg")
        }

    first = write(1)
    assert first == write(1)
    every = [w for whys in first.values() for w in whys]
    empty = sum(1 for w in every if w is None) / len(every)
    assert 0.2 < empty < 0.3
    written = [w for w in every if w]
    assert len(set(written)) > 3000  # thousands of phrasings
    assert any(len(w.split()) == 1 for w in written)  # "great", "ok"
    assert sum(1 for w in written if len(w.split()) > 12) > 500  # and longer stories
    feeling = {
        tone: sum(sentiment.score_many([w for w in whys if w])) / sum(1 for w in whys if w)
        for tone, whys in first.items()
    }
    assert feeling["pos"] > feeling["tip"] > 0.1  # passives: mostly fine, with a wish
    assert feeling["neg"] < -0.2


def test_the_demo_asks_customers_and_their_answers_show_themes(
    engine: Engine, settings: Settings
) -> None:
    purchases = [p for p in read_purchases() if int(p.customer) <= CUSTOMERS]
    loaded = load(engine, live=settings.live, survey_settings=settings.surveys, today=TODAY,
                  purchases=purchases)  # fmt: skip
    summary = loaded.surveys
    end = datetime(2026, 11, 23, tzinfo=UTC)
    with engine.connect() as conn:
        made = dict(conn.execute(text("SELECT name, question FROM surveys")).all())
        assert set(made) == {"Relationship NPS", "After purchase", "Support CSAT", "Returns CES"}
        assert all("CDNOW" in question for question in made.values())
        rows = conn.execute(text(
            "SELECT r.score, r.band, r.why, r.department, r.channel, r.answered_at, s.kind, "
            "r.invitation_id, i.sent_at, i.opened_at, i.answered_at AS invitation_answered, "
            "(SELECT min(e.occurred_at) FROM events e WHERE e.customer_id = r.customer_id "
            " AND e.type NOT IN ('survey_response', 'promoter', 'passive', 'detractor')) "
            "AS first_seen "
            "FROM survey_responses r JOIN surveys s ON s.id = r.survey_id "
            "LEFT JOIN survey_invitations i ON i.id = r.invitation_id")).all()  # fmt: skip
        invited = conn.execute(text("SELECT count(*) FROM survey_invitations")).scalar_one()
        themes = (
            conn.execute(
                text("SELECT name FROM themes WHERE merged_into_id IS NULL ORDER BY position")
            )
            .scalars()
            .all()
        )
    assert summary.answers == summary.new_answers == len(rows) > 1000
    with engine.connect() as conn:  # the demo's advocacy: asks, referrals, reviews, shares
        shown = advocacy_report.report(conn, settings, advocacy_report.query(None, None, None,
                                                                             None))  # fmt: skip
    assert shown["promoters"] > 50 and 0.15 < shown["ask_rate"] < 0.45, shown
    assert shown["referrals"] > 0 and shown["referred_revenue"] > 0, shown
    assert shown["reviews"]["total"] > 0 and "unknown" not in shown["reviews"]["per_platform"]
    assert shown["shares"]["total"] > 0 and shown["top_advocates"], shown
    assert summary.invitations == invited

    # every answer follows the customer's first touchpoint and comes before today
    def utc(value: object) -> datetime:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    for row in rows:
        assert utc(row.first_seen) < utc(row.answered_at) < end
        if row.invitation_id is not None:
            sent, opened = utc(row.sent_at), utc(row.opened_at)
            assert sent <= opened <= utc(row.answered_at) == utc(row.invitation_answered)
    by_invitation = sum(1 for r in rows if r.invitation_id is not None)
    assert 0.2 < by_invitation / invited < 0.45  # the response rate

    # whys: most answers have one; the NPS is plausible and follows the score
    whys = [r.why for r in rows if r.why]
    assert 0.65 < len(whys) / len(rows) < 0.85
    nps = [r for r in rows if r.kind == "nps"]
    bands = Counter(r.band for r in nps)
    score = 100 * (bands["promoter"] - bands["detractor"]) / len(nps)
    assert -60 < score < 70
    assert summary.nps is not None and abs(summary.nps - score) < 0.1
    assert min(bands.values()) > 0.15 * len(nps)
    kinds = Counter(r.kind for r in rows)
    assert kinds["nps"] > kinds["csat"] > 0 and kinds["ces"] > 0

    # breakdowns worth looking at
    departments = Counter(r.department for r in nps if r.department)
    assert sum(1 for n in departments.values() if n >= 30) >= 3
    assert {"email", "web", "phone"} <= {r.channel for r in rows}

    # themes fitted from the answers, named by words the customers used
    words = set(re.findall(r"[a-z]+", " ".join(whys).lower()))
    assert len(themes) >= 6 and themes == summary.themes
    for name in themes:
        assert set(name.split(" · ")) <= words, name

    # each question follows the event it is about (purchase, complaint, contact...)
    timeline = surveys.Timeline()
    timeline.observe(demo_events(TODAY, purchases))
    asked = surveys.Simulation(timeline, TODAY).asks()
    assert all(a.follows < a.at < end for a in asked)
    assert Counter(a.plan.name for a in asked if not a.invited).keys() == set(made)

    # loading again adds nothing
    again = surveys.load(engine, timeline, today=TODAY, live=settings.live)
    assert again.new_answers == 0 and again.answers == summary.answers
    assert again.invitations == summary.invitations
