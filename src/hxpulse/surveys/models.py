"""Tables: surveys, invitations, responses, the rolled-up score counts and the themes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime

SCORES = range(11)  # every kind's scores lie in 0..10: one count column per score
COUNT_COLUMNS = tuple(f"c{score}" for score in SCORES)


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    question: Mapped[str] = mapped_column(Text)
    followups: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    # where it is asked: a department and touchpoint, and/or an event type that triggers it
    department: Mapped[str | None] = mapped_column(String(100))
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    trigger_event: Mapped[str | None] = mapped_column(String(200))
    # a recurring relationship survey: every member of a segment, every N days
    segment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("segments.id"))
    every_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # the newest event a triggered survey has looked at
    trigger_cursor: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invitation(Base):
    """One signed, expiring, single-use link to answer a survey."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index("ix_survey_invitations_customer_sent", "customer_id", "sent_at"),
        Index("ix_survey_invitations_survey_sent", "survey_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    via: Mapped[str] = mapped_column(String(10))  # email | link
    email: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Response(Base):
    """One answer: the score, the why, and what was read in it."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_survey_answered", "survey_id", "answered_at"),
        Index("ix_survey_responses_answered_at", "answered_at"),
        Index("ix_survey_responses_flagged", "answered_at",
              postgresql_where=text("flagged"), sqlite_where=text("flagged")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("survey_invitations.id"))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(20))
    why: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    department: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    themed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ScoreCount(Base):
    """Answers rolled up as they arrive: per survey, UTC day, department, channel and
    touchpoint ('' where none), how many gave each score. Written in the answer's own
    transaction, so it always equals a GROUP BY over `survey_responses`."""

    __tablename__ = "survey_score_counts"

    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    department: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    touchpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    c0: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c1: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c2: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c3: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c4: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c5: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c6: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c7: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c8: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c9: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    c10: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ThemeModelRow(Base):
    """A fitted theme model (plain JSON: the words it needs and the themes' word weights)."""

    __tablename__ = "theme_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answers: Mapped[int] = mapped_column(Integer)
    model: Mapped[dict[str, Any]] = mapped_column(JSONData)


class Theme(Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(BigId, ForeignKey("theme_models.id"))
    position: Mapped[int] = mapped_column(Integer)  # the theme's index in its model
    name: Mapped[str] = mapped_column(String(200))
    words: Mapped[list[Any]] = mapped_column(JSONData, default=list)
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("themes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResponseTheme(Base):
    __tablename__ = "response_themes"
    __table_args__ = (Index("ix_response_themes_theme_id", "theme_id"),)

    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("survey_responses.id"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(BigId, ForeignKey("themes.id"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
