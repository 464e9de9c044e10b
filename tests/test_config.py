"""Settings: defaults, hxpulse.toml, environment, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hxpulse.config import Settings


def test_defaults_are_recognisable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url == "sqlite:///hxpulse.db"
    weights = settings.pulse.weights
    assert weights["purchase"].component == "return" and weights["purchase"].per_value
    assert weights["personal_outreach"].component == "investment"
    assert weights["complaint"].negative and weights["complaint"].weight < 0
    assert settings.pulse.weight_of("made_up_event") is None


def test_toml_overrides_merge_with_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hxpulse.toml").write_text(
        'database_url = "postgresql://hx@127.0.0.1/hx"\n'
        "[pulse]\nhalf_life_days = 30\n"
        '[pulse.weights.webinar]\ncomponent = "investment"\nweight = 2.5\n'
        '[pulse.weights.purchase]\ncomponent = "return"\nweight = 20\n'
    )
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://hx@127.0.0.1/hx"
    assert settings.pulse.half_life_days == 30
    assert settings.pulse.weights["webinar"].weight == 2.5
    assert settings.pulse.weights["purchase"].weight == 20
    assert "review" in settings.pulse.weights  # the defaults stay


def test_environment_wins_over_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hxpulse.toml").write_text("port = 9000\n")
    monkeypatch.setenv("HXPULSE_PORT", "9100")
    assert Settings().port == 9100


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hxpulse.toml").write_text("[pulse]\nhalf_life_days = -3\n")
    with pytest.raises(ValidationError, match="half_life_days"):
        Settings()
    with pytest.raises(ValidationError, match="not supported"):
        Settings(database_url="mysql://x/y")
