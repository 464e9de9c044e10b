"""`hxpulse --help` and every `hxpulse COMMAND --help` load no database, web or numbers library:
the commands import those inside themselves. Checked in a fresh interpreter by what it has
imported, not by time (bench/cli.py measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hxpulse

# What a command imports when it runs, never for its help.
HEAVY = ("sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "jinja2", "numpy", "scipy",
         "sklearn", "holidays", "pydantic_settings", "orjson", "hxpulse.config", "hxpulse.db",
         "hxpulse.app")  # fmt: skip

# Walks the command tree and asks every command and group for its help, in one process.
EVERY_HELP = """
import json, sys
from typer.testing import CliRunner
from hxpulse.cli.main import app

def walk(group, prefix):
    for command in group.registered_commands:
        yield [*prefix, command.name or command.callback.__name__]
    for sub in group.registered_groups:
        yield [*prefix, sub.name]
        yield from walk(sub.typer_instance, [*prefix, sub.name])

runner = CliRunner()
helps = {" ".join(path): runner.invoke(app, [*path, "--help"]) for path in walk(app, [])}
print(json.dumps({"helps": {name: [r.exit_code, r.output] for name, r in helps.items()},
                  "modules": sorted(sys.modules)}))
"""


def python(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a fresh interpreter on this checkout's sources."""
    src = str(Path(hxpulse.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "120"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          check=False, timeout=120)  # fmt: skip


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]


def test_hxpulse_help_imports_no_heavy_library() -> None:
    done = python("-X", "importtime", "-m", "hxpulse", "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "Create, list and revoke write keys" in done.stdout
    imported = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and "|" in line]  # fmt: skip
    assert "hxpulse.cli.main" in imported and "typer" in imported
    assert heavy(imported) == []
    # the top-level help does not even need pydantic (typer needs it to parse options)
    assert "pydantic" not in imported


def test_every_command_help_imports_no_heavy_library() -> None:
    done = python("-c", EVERY_HELP)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    helps = found["helps"]
    assert {"pulse", "keys create", "import responses", "themes fit", "teams add"} <= set(helps)
    assert len(helps) >= 50
    for name, (code, output) in helps.items():
        assert code == 0 and "Usage:" in output, (name, output)
    assert heavy(found["modules"]) == []


def test_help_shows_config_section_names() -> None:
    """Rich takes `[smtp]` for markup: help texts naming a section escape it."""
    done = python("-m", "hxpulse", "surveys", "invite", "--help")
    assert done.returncode == 0, done.stderr
    assert "[smtp] host" in done.stdout
