"""Schemathesis over the whole OpenAPI, bodies included, against a real `hxpulse serve`.

One run per database and per key scope (a write key as the Basic user on the Segment routes;
Bearer keys with `read`, `write` and `admin` on the rest), each on its own fresh database
seeded through the API with a few customers, a survey and a segment. Each run is bounded by
the number of cases per operation (`HXPULSE_FUZZ_EXAMPLES` scales it; 1 by default), so every
operation is tested whatever the machine's speed (phases: examples, coverage, fuzzing; see
schemathesis.toml for the one operation family the coverage phase skips). A run fails on any 5xx, on an operation
schemathesis could not test, and on a traceback in the server's log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.testing.server import ServerProcess

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCALE = float(os.environ.get("HXPULSE_FUZZ_EXAMPLES", "1"))
# scope -> (cases per operation and phase, operations): a write key only reaches the tracking
# routes, so its run has the cases the others spread over fifty operations
RUNS = {
    "track": (60, r"^/v1/"),
    "read": (30, r"^/(api|sourceConfig|healthz)"),
    "write": (30, r"^/(api|sourceConfig|healthz)"),
    "admin": (50, r"^/(api|sourceConfig|healthz)"),
}


def _seed(url: str, write_key: str, admin_key: str) -> None:
    """A few customers with identities, traits and purchases (one of them the customer the
    API description's examples name), a survey and a segment."""
    batch = []
    for n in range(1, 6):
        user = {"userId": "42" if n == 1 else f"u{n}"}
        email = "ada@example.com" if n == 1 else f"u{n}@example.com"
        batch.append({"type": "identify", **user, "traits": {"email": email, "name": f"N{n}"}})
        batch.append({"type": "track", **user, "event": "Order Completed",
                      "properties": {"revenue": 10.0 * n}})  # fmt: skip
    with httpx.Client(base_url=url, timeout=30) as client:
        sent = client.post("/v1/batch", json={"batch": batch}, auth=(write_key, ""))
        assert sent.status_code == 200, sent.text
        bearer = {"Authorization": f"Bearer {admin_key}"}
        survey = {"name": "Fuzz NPS", "kind": "nps"}
        assert client.post("/api/surveys", json=survey, headers=bearer).status_code == 201
        segment = {
            "name": "Customers",
            "definition": {"field": "stage", "op": "gte", "value": "customer"},
        }
        assert client.post("/api/segments", json=segment, headers=bearer).status_code == 201


@pytest.fixture
def served(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    # no dispatcher: the webhooks the fuzzer adds (to public addresses) are never sent
    monkeypatch.setenv("HXPULSE_OUTBOX", '{"in_process": false}')
    engine = make_engine(Settings(database_url=database_url))
    upgrade(engine)
    with engine.begin() as conn:
        keys = {s: auth.create_key(conn, name=f"fuzz {s}", scopes=[s])[1] for s in RUNS}
    engine.dispose()
    process = ServerProcess(database_url, log=tmp_path / "server.log").start()
    try:
        _seed(process.url, keys["track"], keys["admin"])
        yield process, keys
    finally:
        process.stop()


@pytest.mark.parametrize("scope", list(RUNS))
def test_no_server_error_anywhere(
    served: tuple[ServerProcess, dict[str, str]], scope: str, tmp_path: Path
) -> None:
    process, keys = served
    examples, paths = RUNS[scope]
    report = tmp_path / "report.json"
    auth_args = ["--auth", f"{keys[scope]}:"] if scope == "track" else [
        "--header", f"Authorization: Bearer {keys[scope]}"]  # fmt: skip
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
        "run", f"{process.url}/openapi.json",
        "--checks", "not_a_server_error", "--include-path-regex", paths,
        "--max-examples", str(max(1, round(examples * SCALE))), "--workers", "1", "--seed", "9",
        "--phases", "examples,coverage,fuzzing",
        "--request-timeout", "30", "--report", "json", "--report-json-path", str(report),
        *auth_args,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    output = run.stdout[-6000:] + run.stderr[-2000:]
    summary = json.loads(report.read_text())
    log = process.log.read_text(errors="replace") if process.log else ""
    assert "Traceback" not in log, log[-6000:]
    assert summary["failures"] == [] and summary["errors"] == [], output
    operations = summary["operations"]
    assert operations["tested"] == operations["selected"] > 0, output
    assert operations["errored"] == 0, output
    assert summary["test_cases"]["generated"] > 100, output
    assert run.returncode == 0, output
