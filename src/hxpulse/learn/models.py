"""Table: the last fitted model of each kind (offers, text, CLV), what serving reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, JSONData, UTCDateTime


class FittedModel(Base):
    """One row per kind: `fit` replaces it in one transaction, so serving never sees half a
    model and never waits for a fit."""

    __tablename__ = "fitted_models"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # offers, text, clv
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONData)  # parameters, sizes, held-out scores
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
