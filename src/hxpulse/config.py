"""Settings: one class, read from arguments, `HXPULSE_*` environment variables and hxpulse.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_URL = "sqlite:///hxpulse.db"
Component = Literal["investment", "return", "experience"]


class EventWeight(BaseModel):
    """How one event type moves the pulse."""

    component: Component
    weight: float = Field(allow_inf_nan=False)
    per_value: bool = Field(False, description="Weight grows with the event's value (purchases).")
    negative: bool = Field(False, description="Counts 12x until resolved (complaints).")


def _w(component: Component, weight: float, **flags: bool) -> EventWeight:
    return EventWeight(component=component, weight=weight, **flags)


DEFAULT_WEIGHTS: dict[str, EventWeight] = {
    # investments: what the brand puts into the relationship
    "personal_outreach": _w("investment", 3), "relevant_content": _w("investment", 1),
    "email_sent": _w("investment", 0.5), "exclusive_access": _w("investment", 4),
    "early_access": _w("investment", 4), "reward": _w("investment", 3),
    "incentive": _w("investment", 2),
    # returns: what the customer gives back
    "purchase": _w("return", 10, per_value=True), "repeat_use": _w("return", 1),
    "app_open": _w("return", 1), "page_view": _w("return", 0.2), "page": _w("return", 0.2),
    "screen": _w("return", 0.2), "email_opened": _w("return", 0.5),
    "store_visit": _w("return", 1), "content_share": _w("return", 4),
    "social_mention": _w("return", 2), "referral": _w("return", 8), "review": _w("return", 6),
    "survey_response": _w("return", 2),
    # experiences: how it felt
    "complaint": _w("experience", -5, negative=True),
    "failed_delivery": _w("experience", -4, negative=True),
    "detractor": _w("experience", -4, negative=True), "passive": _w("experience", 0),
    "promoter": _w("experience", 4), "resolution": _w("experience", 2),
    "support_contact": _w("experience", 0),
}  # fmt: skip


class PulseSettings(BaseModel):
    """The `[pulse]` section of hxpulse.toml."""

    half_life_days: float = Field(90.0, gt=0, allow_inf_nan=False)
    negative_multiplier: float = Field(12.0, ge=1, allow_inf_nan=False)
    value_reference: float = Field(50.0, gt=0, description="Value at which a purchase counts 1.7x.")
    bands: dict[str, float] = Field(
        default_factory=lambda: {"thriving": 40.0, "steady": 12.0, "cooling": 3.0}
    )
    weights: dict[str, EventWeight] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @field_validator("weights", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        """Entries in the config replace or add to the defaults; they do not drop them."""
        if isinstance(value, dict):
            return {**DEFAULT_WEIGHTS, **value}
        return value

    def weight_of(self, event_type: str) -> EventWeight | None:
        """The weight of `event_type`, or None when it is unmapped (and so counts zero)."""
        return self.weights.get(event_type)


def normalise_database_url(url: str) -> str:
    """Return `url` with the driver HX Pulse uses (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ValueError(
        f"Database URL {url!r} is not supported: use sqlite:///FILE or postgresql://USER@HOST/DB."
    )


class Settings(BaseSettings):
    """Everything HX Pulse can be told; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="HXPULSE_", toml_file="hxpulse.toml", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    environment: Literal["development", "production", "test"] = "development"
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = "FULL"
    max_batch_bytes: int = 500 * 1024
    max_message_bytes: int = 32 * 1024
    pulse: PulseSettings = Field(default_factory=PulseSettings)

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("secret_key must be at least 32 characters long")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return Path(path) if path and path != ":memory:" else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
