"""Request bodies and responses of the people, keys and account API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "analyst", "agent"]
Scope = Literal["track", "read", "write", "admin"]


class UserCreate(BaseModel):
    """A person to add; without `password`, one is generated and returned this once."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=3,
        max_length=320,
        json_schema_extra={"format": "email"},  # described; checked by normalise_email (400)
        examples=["ann@example.com"],
    )
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

    name: str = Field(min_length=1, max_length=100, examples=["BI dashboard"])
    scopes: list[Scope] = Field(
        default_factory=_track_only,
        min_length=1,
        max_length=4,
        description="There are four scopes.",
    )


# Responses: what the routes return, exactly (never a password hash or a key's secret, except
# a created key's secret and a generated password, each returned this once).


class UserRead(BaseModel):
    """A person who signs in (never their password hash)."""

    id: int
    email: str
    name: str | None
    role: Role
    active: bool = Field(description="False: disabled, may not sign in.")
    created_at: datetime
    last_login_at: datetime | None = Field(description="The last sign-in; none: never.")


class UserListItem(UserRead):
    sessions: int = Field(description="Sessions open now.")


class UserList(BaseModel):
    items: list[UserListItem]


class UserCreated(BaseModel):
    user: UserRead
    password: str | None = Field(
        description="The generated password, returned this once; none when it was given."
    )


class PasswordResetRead(BaseModel):
    user_id: int
    password: str | None = Field(
        description="The generated password, returned this once; none when it was given."
    )


class UserSignedOut(BaseModel):
    user_id: int
    sessions_ended: int = Field(description="How many sessions were open.")


class KeyRead(BaseModel):
    """A key as listed: never its secret, only the secret's first characters."""

    id: int
    name: str
    prefix: str = Field(description="The secret's first 10 characters, to recognise it.")
    scopes: str = Field(description="Comma-separated, in alphabetical order: read,write.")
    origins: list[str] = Field(description="Web origins a browser key accepts.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Within a minute; none: never used.")
    revoked_at: datetime | None = Field(description="None: active.")


class KeyList(BaseModel):
    items: list[KeyRead]


class KeyCreated(BaseModel):
    """A key just made, with its secret: returned this once, never stored."""

    id: int
    name: str
    scopes: list[Scope] = Field(description="In alphabetical order, each once.")
    secret: str = Field(description="The key itself: `Authorization: Bearer SECRET`.")


class SessionRead(BaseModel):
    """One open session of yours (a browser where you are signed in)."""

    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None = Field(description="The client's IP address at sign-in.")
    user_agent: str | None
    current: bool = Field(description="Whether it is the session making this request.")


class AccountRead(BaseModel):
    user: UserRead
    sessions: list[SessionRead] = Field(description="Open sessions, most recently used first.")


class SignedOutEverywhere(BaseModel):
    sessions_ended: int = Field(description="How many sessions were open, this one included.")
