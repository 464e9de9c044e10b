"""Themes of the *why* answers: fitted from the answers themselves (analytics/themes.py),
stored as plain JSON, assigned to each new answer as it arrives, renamed and merged by people,
and read as drivers: how many mention a theme, its NPS, and how NPS would change without it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update

from hxpulse.analytics import nps as stats
from hxpulse.analytics import themes as text_themes
from hxpulse.errors import Invalid, NotFound
from hxpulse.surveys.models import Response, ResponseTheme, Theme, ThemeModelRow

responses_t = cast(Table, Response.__table__)
themes_t = cast(Table, Theme.__table__)
links_t = cast(Table, ResponseTheme.__table__)
models_t = cast(Table, ThemeModelRow.__table__)
FIT_LIMIT = 200_000  # the newest answers a fit reads

_cache: dict[tuple[int, datetime], text_themes.ThemeModel] = {}


def _latest(conn: Connection) -> tuple[int, text_themes.ThemeModel, dict[int, int]] | None:
    """The newest fitted model, and each of its positions' live theme id (after merges)."""
    head = conn.execute(
        select(models_t.c.id, models_t.c.fitted_at).order_by(models_t.c.id.desc()).limit(1)
    ).first()
    if head is None:
        return None
    model_id, key = head.id, (head.id, head.fitted_at)  # SQLite may reuse an id after a refit
    model = _cache.get(key)
    if model is None:  # read the model's JSON once per fit, not on every answer
        stored = conn.execute(select(models_t.c.model).where(models_t.c.id == model_id))
        model = text_themes.ThemeModel.from_json(stored.scalar_one())
        _cache.clear()
        _cache[key] = model
    rows = conn.execute(
        select(themes_t.c.id, themes_t.c.position, themes_t.c.merged_into_id).where(
            themes_t.c.model_id == model_id
        )
    ).all()
    merged = {r.id: r.merged_into_id for r in rows}
    live: dict[int, int] = {}
    for r in rows:
        target = r.id
        while merged.get(target) is not None:
            target = merged[target]
        live[r.position] = target
    return model_id, model, live


def _link(
    conn: Connection,
    model: text_themes.ThemeModel,
    live: dict[int, int],
    ids: Sequence[int],
    texts: Sequence[str | None],
) -> None:
    pairs = [(rid, text) for rid, text in zip(ids, texts, strict=True) if text]
    rows: dict[tuple[int, int], float] = {}
    if pairs:
        for (rid, _), found in zip(pairs, model.assign([t for _, t in pairs]), strict=True):
            for position, weight in found:
                theme_id = live.get(position)
                if theme_id is not None:
                    key = (rid, theme_id)
                    rows[key] = max(rows.get(key, 0.0), float(weight))
    if rows:
        conn.execute(
            insert(links_t),
            [{"response_id": r, "theme_id": t, "weight": w} for (r, t), w in rows.items()],
        )
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        conn.execute(update(responses_t).where(responses_t.c.id.in_(part)).values(themed=True))


def assign_new(conn: Connection, ids: Sequence[int], texts: Sequence[str | None]) -> None:
    """Give new answers the themes of the current model (none until a model is fitted)."""
    latest = _latest(conn)
    if latest is not None and ids:
        _, model, live = latest
        _link(conn, model, live, ids, texts)


def fit(conn: Connection, *, now: datetime, n_themes: int | None = None) -> dict[str, Any]:
    """Discover themes from the newest answers with a why, and assign them to every answer.
    Earlier themes, with their names and merges, are replaced."""
    rows = conn.execute(
        select(responses_t.c.id, responses_t.c.why)
        .where(responses_t.c.why.is_not(None))
        .order_by(responses_t.c.id.desc())
        .limit(FIT_LIMIT)
    ).all()
    texts = [r.why for r in rows]
    model = text_themes.discover(texts, n_themes)
    conn.execute(links_t.delete())
    conn.execute(update(themes_t).values(merged_into_id=None))
    conn.execute(themes_t.delete())
    conn.execute(models_t.delete())
    model_id = conn.execute(
        insert(models_t)
        .values(fitted_at=now, answers=len(texts), model=model.to_json())
        .returning(models_t.c.id)
    ).scalar_one()
    live = {}
    for theme in model.themes:
        live[theme.index] = conn.execute(
            insert(themes_t)
            .values(
                model_id=model_id,
                position=theme.index,
                name=theme.name,
                words=[[w, float(x)] for w, x in theme.words],
                created_at=now,
            )
            .returning(themes_t.c.id)
        ).scalar_one()
    conn.execute(update(responses_t).values(themed=False))
    all_rows = conn.execute(
        select(responses_t.c.id, responses_t.c.why).where(responses_t.c.why.is_not(None))
    ).all()
    for start in range(0, len(all_rows), 5000):
        part = all_rows[start : start + 5000]
        _link(conn, model, live, [r.id for r in part], [r.why for r in part])
    return {"themes": len(model.themes), "answers": len(texts)}


def rename(conn: Connection, theme_id: int, name: str) -> dict[str, Any]:
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise Invalid(
            "name: give 1 to 200 characters",
            errors=[{"field": "name", "message": "1 to 200 characters"}],
        )
    _get(conn, theme_id)
    conn.execute(update(themes_t).where(themes_t.c.id == theme_id).values(name=name))
    return _get(conn, theme_id)


def merge(conn: Connection, theme_id: int, into_id: int) -> dict[str, Any]:
    """Fold theme `theme_id` into `into_id`: its answers now mention `into_id`."""
    if theme_id == into_id:
        raise Invalid(
            "a theme cannot be merged into itself",
            errors=[{"field": "into", "message": "same theme"}],
        )
    source, target = _get(conn, theme_id), _get(conn, into_id)
    if source["merged_into_id"] or target["merged_into_id"]:
        raise Invalid(
            "that theme was already merged", errors=[{"field": "into", "message": "merged"}]
        )
    moving = conn.execute(
        select(links_t.c.response_id, links_t.c.weight).where(links_t.c.theme_id == theme_id)
    ).all()
    have = {
        r[0]
        for r in conn.execute(select(links_t.c.response_id).where(links_t.c.theme_id == into_id))
    }
    add = [{"response_id": r, "theme_id": into_id, "weight": w} for r, w in moving if r not in have]
    if add:
        conn.execute(insert(links_t), add)
    conn.execute(links_t.delete().where(links_t.c.theme_id == theme_id))
    conn.execute(update(themes_t).where(themes_t.c.id == theme_id).values(merged_into_id=into_id))
    return _get(conn, into_id)


def _get(conn: Connection, theme_id: int) -> dict[str, Any]:
    row = conn.execute(select(themes_t).where(themes_t.c.id == theme_id)).first()
    if row is None:
        raise NotFound(f"no theme with id {theme_id}")
    return dict(row._mapping)


def drivers(conn: Connection, where: Sequence[Any] = ()) -> dict[str, Any]:
    """Each live theme among the NPS answers matching `where`: mentions, share, NPS of those
    who mention it, and its impact, the change in overall NPS if its answers were left out
    (positive: the theme holds NPS down, a driver of detraction)."""
    base = select(responses_t.c.band, func.count()).where(*where).group_by(responses_t.c.band)
    overall: dict[str, int] = dict(conn.execute(base).all())
    total = stats.nps_of(
        overall.get("promoter", 0), overall.get("passive", 0), overall.get("detractor", 0)
    )
    joined = (
        select(links_t.c.theme_id, responses_t.c.band, func.count())
        .join(responses_t, responses_t.c.id == links_t.c.response_id)
        .where(*where)
        .group_by(links_t.c.theme_id, responses_t.c.band)
    )
    per: dict[int, dict[str, int]] = {}
    for theme_id, band, n in conn.execute(joined):
        per.setdefault(theme_id, {})[band] = int(n)
    names = conn.execute(
        select(themes_t.c.id, themes_t.c.name, themes_t.c.words).where(
            themes_t.c.merged_into_id.is_(None)
        )
    ).all()
    out = []
    for theme_id, name, words in names:
        bands = per.get(theme_id, {})
        p, a, d = bands.get("promoter", 0), bands.get("passive", 0), bands.get("detractor", 0)
        mentions = p + a + d
        its = stats.nps_of(p, a, d)
        without = stats.nps_of(total.promoters - p, total.passives - a, total.detractors - d)
        impact = (
            None if without.nps is None or total.nps is None else round(without.nps - total.nps, 2)
        )
        out.append(
            {
                "id": theme_id,
                "name": name,
                "words": [w for w, _ in words[:8]],
                "mentions": mentions,
                "share": round(100 * mentions / total.n, 1) if total.n else None,
                "nps": None if its.nps is None else round(its.nps, 1),
                "too_small": its.too_small,
                "impact": impact,
            }
        )
    out.sort(key=lambda t: -t["mentions"])
    return {"answers": total.n, "nps": total.to_dict()["nps"], "themes": out}
