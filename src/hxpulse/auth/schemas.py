"""Request bodies of the people, keys and account API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "analyst", "agent"]
Scope = Literal["track", "read", "write", "admin"]


class UserCreate(BaseModel):
    """A person to add; without `password`, one is generated and returned this once."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    role: Role = "agent"
    name: str | None = Field(None, max_length=200)
    password: str | None = Field(None, min_length=8, max_length=1000)


class UserUpdate(BaseModel):
    """A change of role and/or of whether the person may sign in."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None


class PasswordReset(BaseModel):
    """A new password for the person; without one, a generated one is returned this once."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, min_length=8, max_length=1000)


def _track_only() -> list[Scope]:
    return ["track"]


class KeyCreate(BaseModel):
    """A key to create: what it is for and its scopes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=_track_only, min_length=1)
