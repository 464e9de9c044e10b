"""Response shapes of the audit log routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntryRead(BaseModel):
    id: int
    at: datetime
    actor_kind: str = Field(description="user, key, customer or system")
    actor_id: int | None
    actor_label: str
    address: str | None = Field(description="The client's IP address, when over HTTP.")
    action: str
    subject_kind: str | None
    subject_id: str | None = Field(description="For customers, the internal id.")
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page.")
