"""The demo's brand: its survey questions name CDNOW, and so do the survey pages around them
(unless a brand is configured, which then both use)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.app import create_app
from hxpulse.config import Settings, SurveySettings
from hxpulse.db.engine import run_write
from hxpulse.demo.cdnow import read_purchases
from hxpulse.demo.load import demo_settings, load
from hxpulse.surveys import links, service
from tests.surveys.invites import HTML

TODAY = date(2026, 11, 23)


def test_the_demo_brands_its_settings_unless_a_brand_is_configured(settings: Settings) -> None:
    assert settings.surveys.brand == "our company"  # the default
    assert demo_settings(settings).surveys.brand == "CDNOW"
    acme = settings.model_copy(update={"surveys": SurveySettings(brand="Acme")})
    assert demo_settings(acme).surveys.brand == "Acme"


def _invite_someone(engine: Engine, survey: dict[str, Any]) -> int:
    anyone = SurveySettings(per_survey_days=0, any_survey_days=0)  # no fatigue guard here

    def work(conn: Any) -> int:
        ids = conn.execute(text("SELECT id FROM customers ORDER BY id")).scalars().all()
        made = service.invite(conn, survey, ids, settings=anyone, now=datetime.now(UTC))
        return made.invited[0].invitation_id

    return run_write(engine, work)


def test_the_demo_survey_page_says_the_brand_its_question_names(
    engine: Engine, settings: Settings
) -> None:
    config = demo_settings(settings)
    purchases = [p for p in read_purchases() if int(p.customer) <= 150]
    load(engine, live=config.live, survey_settings=config.surveys, today=TODAY,
         purchases=purchases)  # fmt: skip
    with engine.connect() as conn:
        survey = service.find(conn, "Relationship NPS")
    assert "CDNOW" in survey["question"]
    invitation = _invite_someone(engine, survey)
    app = create_app(config)
    with TestClient(app) as client:
        page = client.get(f"/s/{links.token_for(app.state.secret, invitation)}", headers=HTML)
    assert page.status_code == 200
    assert re.search(r'<p class="survey-brand">CDNOW</p>', page.text), page.text[:800]
    assert "our company" not in page.text
    assert "How likely are you to recommend CDNOW" in page.text
