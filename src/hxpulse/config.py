"""Settings: one class, read from arguments, `HXPULSE_*` environment variables and hxpulse.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_URL = "sqlite:///hxpulse.db"


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
