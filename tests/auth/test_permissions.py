"""The one table of who may do what."""

from __future__ import annotations

from pathlib import Path

import pytest

from hxpulse.auth import service as auth
from hxpulse.auth.permissions import (
    PEOPLE_ONLY,
    PERMISSIONS,
    ROLES,
    SCOPES,
    Actor,
    matrix_markdown,
    role_can,
)


def test_roles_and_scopes_name_only_known_things() -> None:
    assert ROLES == auth.ROLES
    assert set(SCOPES) == set(auth.SCOPES)
    for _what, roles in PERMISSIONS.values():
        assert set(roles) <= set(ROLES)
    for granted in SCOPES.values():
        assert set(granted) <= set(PERMISSIONS)


def test_admin_may_do_everything_people_may_do() -> None:
    for permission, (_what, roles) in PERMISSIONS.items():
        if roles:
            assert role_can("admin", permission)


def test_agents_work_customers_but_build_nothing() -> None:
    agent = Actor("user", 1, "a@example.com", role="agent")
    assert agent.can("customers:read") and agent.can("consent:write")
    for permission in ("segments:write", "segments:export", "surveys:write", "users:manage",
                       "keys:manage", "customers:erase", "audit:read"):  # fmt: skip
        assert not agent.can(permission)


def test_analysts_read_everything_and_build_segments_and_surveys() -> None:
    analyst = Actor("user", 2, "b@example.com", role="analyst")
    for permission in PERMISSIONS:
        if permission.endswith(":read") and permission != "audit:read":
            assert analyst.can(permission), permission
    assert analyst.can("segments:write") and analyst.can("surveys:write")
    assert not analyst.can("users:manage") and not analyst.can("customers:erase")


def test_keys_carry_their_scopes() -> None:
    reader = Actor("key", 3, "bi", scopes=("read",))
    assert reader.can("segments:read") and not reader.can("segments:write")
    assert not reader.can("audit:read")  # the audit log is for admins
    tracker = Actor("key", 4, "web", scopes=("track",))
    assert [p for p in PERMISSIONS if tracker.can(p)] == ["events:track"]
    admin = Actor("key", 5, "ops", scopes=("admin",))
    assert all(admin.can(p) for p in PERMISSIONS if p not in PEOPLE_ONLY)
    assert not admin.can("account:manage")  # a key has no account of its own
    assert not Actor("user", 6, "x@example.com", role=None).can("customers:read")


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Actor("user", 1, "a@example.com", role="admin").can("customers:delete")


def test_the_architecture_page_shows_the_table_the_code_has() -> None:
    page = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    assert matrix_markdown() in page, "paste auth.permissions.matrix_markdown() into the docs"
