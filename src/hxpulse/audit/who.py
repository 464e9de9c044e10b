"""The actor of an audit entry, alone so that the command line can name itself without loading
the database layer (`hxpulse --help` stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("user", "key", "customer", "system")


@dataclass(frozen=True, slots=True)
class Who:
    """The actor of an entry: `kind` is one of KINDS; `label` names it for people."""

    kind: str
    id: int | None
    label: str
    address: str | None = None
