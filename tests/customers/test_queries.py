"""Customer references: `id:N` is the internal id; an identity wins over a bare number; through
`queries.find`, the CLI and the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.customers import queries
from hxpulse.errors import Invalid, NotFound
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

runner = CliRunner()
NOW = datetime.now(UTC)
NOT_FOUND = ["²", "٣", "99999999999999999999999", "9223372036854775808", "0", "-1", "id:²",
             "id:99999999999999999999999", "id:0", "id:abc", "id:"]  # fmt: skip
NOT_A_REFERENCE = ["1" * 5000, "x" * 401, "a\x00b", "tab\there"]  # 400, never echoed back


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Customers `a`..`d` (user ids), and `z`, whose user id is `a`'s internal id with zeros
    in front: `00001` when `a` is customer 1."""

    def bought(user: str, n: int) -> EventIn:
        return EventIn(message_id=f"{user}-{n}", kind="track", type="purchase", value=10.0 * n,
                       identities=[("user_id", user)], occurred_at=NOW - timedelta(days=n))  # fmt: skip

    ingest(engine, [bought(u, n) for n, u in enumerate("abcd", start=1)], now=NOW)
    with engine.connect() as conn:
        ids = {u: queries.find(conn, f"user_id:{u}") for u in "abcd"}
    ingest(engine, [bought(f"{ids['a']:05d}", 9)], now=NOW)
    with engine.connect() as conn:
        ids["z"] = queries.find(conn, f"user_id:{ids['a']:05d}")
    assert len(set(ids.values())) == 5
    return ids


def test_find_prefers_an_identity_and_takes_id_n_as_the_internal_id(
    engine: Engine, people: dict[str, int]
) -> None:
    a, z = people["a"], people["z"]
    with engine.connect() as conn:
        assert queries.find(conn, f"{a:05d}") == z  # the user id, not internal id a
        assert queries.find(conn, f"id:{a}") == a
        assert queries.find(conn, f" id:{a:05d} ") == a
        assert queries.find(conn, str(a)) == a  # nobody's identity: the internal id
        assert queries.find(conn, "b") == people["b"]
        for ref in NOT_FOUND:
            with pytest.raises(NotFound):
                queries.find(conn, ref)
        for ref in NOT_A_REFERENCE:
            with pytest.raises(Invalid) as refused:
                queries.find(conn, ref)
            assert ref not in refused.value.message and refused.value.errors[0]["field"] == "ref"


def test_the_cli_follows_the_rule(database_url: str, people: dict[str, int]) -> None:
    a, z = people["a"], people["z"]

    def customer(ref: str) -> int:
        result = runner.invoke(app, ["--db", database_url, "pulse", ref, "--json"])
        assert result.exit_code == 0, result.output
        return int(orjson.loads(result.stdout)["customer_id"])

    assert customer(f"{a:05d}") == z
    assert customer(f"id:{a}") == a
    assert customer(str(a)) == a
    for ref in ("²", "99999999999999999999999", "id:0"):
        result = runner.invoke(app, ["--db", database_url, "pulse", ref])
        assert result.exit_code == 1 and "no customer has" in result.output, ref


def test_the_api_follows_the_rule(client: TestClient, api_key: str, people: dict[str, int]) -> None:
    a, z = people["a"], people["z"]
    headers = {"authorization": f"Bearer {api_key}"}
    for route in ("/api/customers/{}", "/api/customers/{}/pulse", "/api/customers/{}/journey",
                  "/api/customers/{}/pulse/history"):  # fmt: skip
        assert client.get(route.format(f"{a:05d}"), headers=headers).status_code == 200
        assert client.get(route.format(f"id:{a}"), headers=headers).status_code == 200
    assert client.get(f"/api/customers/{a:05d}", headers=headers).json()["id"] == z
    assert client.get(f"/api/customers/id:{a}", headers=headers).json()["id"] == a
    assert client.get(f"/api/customers/{a}/pulse", headers=headers).json()["customer_id"] == a
    for ref in ("%C2%B2", "99999999999999999999999", "id:99999999999999999999999", "id:0", "-1"):
        for route in ("/api/customers/{}", "/api/customers/{}/pulse", "/api/customers/{}/journey"):
            got = client.get(route.format(ref), headers=headers)
            assert got.status_code == 404, (route, ref, got.text)
            assert got.json()["code"] == "not_found"
