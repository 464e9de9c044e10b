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


def test_standard_names_and_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hxpulse.toml").write_text(
        '[pulse.aliases]\n"Bestellung abgeschlossen" = "purchase"\n"Order Completed" = ""\n'
        '"Product Viewed" = "product_view"\n'
        '[pulse.weights."Signed Up"]\ncomponent = "return"\nweight = 7\n'
    )
    pulse = Settings().pulse
    assert pulse.canonical("Bestellung abgeschlossen") == "purchase"
    assert pulse.canonical("Order Completed") == "Order Completed"  # dropped: read as it is
    assert pulse.weight_of("Order Completed") is None
    assert pulse.weight_of("order_completed") is pulse.weights["purchase"]  # the others stay
    assert pulse.canonical("Product Viewed") == "product_view"  # redirected to an unweighted type
    assert pulse.weight_of("Product Viewed") is None
    # a standard name given a weight of its own is its own type
    assert pulse.canonical("Signed Up") == "Signed Up"
    assert pulse.weight_of("Signed Up") == pulse.weights["Signed Up"]
    assert pulse.names_of(["purchase"]) == sorted(
        ["purchase", "Bestellung abgeschlossen", "Completed Order", "Subscription Started",
         "completed_order", "order_completed", "subscription_started"]
    )  # fmt: skip


def test_standard_names_can_be_switched_off() -> None:
    pulse = Settings(pulse={"standard_names": False, "aliases": {"Kauf": "purchase"}}).pulse
    assert pulse.names_of(["purchase"]) == ["Kauf", "purchase"]
    assert pulse.weight_of("Order Completed") is None


@pytest.mark.parametrize(
    ("aliases", "weights", "message"),
    [
        ({"Kauf": "Order Completed"}, {}, "'Kauf' = 'Order Completed', which is itself an alias"),
        ({"Kauf": "Kauf"}, {}, "'Kauf' is an alias of itself"),
        ({"webinar": "purchase"}, {"webinar": {"component": "investment", "weight": 1}},
         "'webinar' has a weight of its own"),
    ],
)  # fmt: skip
def test_bad_aliases_name_the_alias(
    aliases: dict[str, str], weights: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(pulse={"aliases": aliases, "weights": weights})
