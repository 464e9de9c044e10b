"""The active catalogue as serving reads it: kept per process until the catalogue changes.

Every write to the catalogue calls `changed`, which rewrites the `meta` row `offers.version`;
`active_offers` reads that row (one primary-key lookup) and reads the offers again only when
it differs from the version its copy was made from, in every process alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from hxpulse.db.engine import is_sqlite
from hxpulse.offers.models import Offer

offers_t = cast(Table, Offer.__table__)
VERSION = "offers.version"  # the meta row every change of the catalogue rewrites


def changed(conn: Connection) -> None:
    """Note that the catalogue changed (in the caller's transaction): every process reads it
    again on its next request."""
    from hxpulse.auth.models import Meta

    meta_t = cast(Table, Meta.__table__)
    dialect = sqlite if is_sqlite(conn) else postgresql
    stmt = dialect.insert(meta_t).values(key=VERSION, value=uuid.uuid4().hex)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                            set_={"value": stmt.excluded.value}))  # fmt: skip


Rule = tuple[frozenset[str], frozenset[str], bool, frozenset[str]]  # stages, bands, consent, …


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The active offers in catalogue order, as arrays a request filters without a loop over
    the offers, and grouped by eligibility rule (each distinct rule checked once)."""

    rows: list[Any]
    classes: dict[Rule, np.ndarray]  # rule -> indices into rows
    ids: np.ndarray
    starts: np.ndarray  # valid_from as a POSIX time (-inf: none)
    ends: np.ndarray  # valid_until (inf: none)
    has_item: np.ndarray
    keep_bought: np.ndarray  # exclude_bought is false
    by_item: dict[str, list[int]]  # item -> indices
    any_department: bool
    position: dict[int, int]  # offer id -> index
    items: np.ndarray  # each offer's item (None: none), as objects
    key_ids: dict[str, int]  # offer key -> id


def _catalogue(rows: list[Any]) -> Catalogue:
    classes: dict[Rule, list[int]] = {}
    by_item: dict[str, list[int]] = {}
    for index, r in enumerate(rows):
        e = r.eligibility or {}
        rule = (frozenset(e.get("stages") or ()), frozenset(e.get("bands") or ()),
                bool(e.get("consent", True)), frozenset(e.get("departments") or ()))  # fmt: skip
        classes.setdefault(rule, []).append(index)
        if r.item:
            by_item.setdefault(r.item, []).append(index)
    return Catalogue(
        rows, {k: np.asarray(v, dtype=np.int64) for k, v in classes.items()},
        np.asarray([int(r.id) for r in rows], dtype=np.int64),
        np.asarray([r.valid_from.timestamp() if r.valid_from else -np.inf for r in rows]),
        np.asarray([r.valid_until.timestamp() if r.valid_until else np.inf for r in rows]),
        np.asarray([bool(r.item) for r in rows], dtype=bool),
        np.asarray([not (r.eligibility or {}).get("exclude_bought", True) for r in rows],
                   dtype=bool),
        by_item, any(k[3] for k in classes), {int(r.id): i for i, r in enumerate(rows)},
        np.asarray([r.item for r in rows] + [None], dtype=object)[:-1],
        {r.key: int(r.id) for r in rows})  # fmt: skip


def active_offers(conn: Connection) -> Catalogue:
    """The active offers, read once per change of the catalogue (`changed`)."""
    from hxpulse.auth.models import Meta

    meta_t = cast(Table, Meta.__table__)
    version = conn.execute(select(meta_t.c.value).where(meta_t.c.key == VERSION)).scalar()
    where = str(conn.engine.url)
    kept = _CATALOGUES.get(where)
    if kept is not None and version is not None and kept[0] == version:
        return kept[1]
    o = offers_t.c
    made = _catalogue(list(conn.execute(select(offers_t).where(o.active.is_(True))
                                        .order_by(o.id))))  # fmt: skip
    if version is not None:
        _CATALOGUES[where] = (str(version), made)
    return made


_CATALOGUES: dict[str, tuple[str, Catalogue]] = {}  # database -> (version, active offers)
