"""Shared helpers for the survey tests: record answers through the service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.surveys import service
from hxpulse.surveys.schemas import ResponseCreate


def make_survey(engine: Engine, settings: Settings, now: datetime, **fields: Any) -> dict[str, Any]:
    data = service.parse_survey({"name": "Relationship NPS", **fields})
    return run_write(
        engine, lambda conn: service.create(conn, data, settings=settings.surveys, now=now)
    )


def answer(
    engine: Engine, settings: Settings, now: datetime, *rows: dict[str, Any]
) -> service.Recorded:
    def work(conn: Any) -> service.Recorded:
        cache: dict[str, dict[str, Any]] = {}
        answers = [
            service.answer_from(
                conn,
                ResponseCreate.model_validate(row),
                settings=settings.surveys,
                now=now,
                cache=cache,
            )
            for row in rows
        ]
        return service.record(conn, answers, settings=settings.surveys, live=settings.live, now=now)

    return run_write(engine, work)
