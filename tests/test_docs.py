"""Documentation is tested: every command and every setting is documented."""

from __future__ import annotations

from pathlib import Path

import typer

from hxpulse.cli.main import app
from hxpulse.config import Settings

ROOT = Path(__file__).parent.parent


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        f"{prefix}{c.name or (c.callback.__name__ if c.callback else '')}"
        for c in group.registered_commands
    ]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = _commands(app)
    assert "import events" in commands and "keys create" in commands
    missing = [c for c in commands if f"hxpulse {c}" not in readme]
    assert missing == []


def test_every_setting_is_in_the_configuration_page() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in page, name
        assert f"HXPULSE_{name.upper()}" in page, name
