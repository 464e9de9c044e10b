"""Serving next best offers: who may see what, the model's ranking, the bandit, the holdout.

`recommend` (1) reads the customer (stage, band, consent to personalisation); (2) keeps the
active offers they are eligible for (validity window, stages, bands, consent, departments,
already bought); (3) for a customer in the holdout (a keyed hash of their id below
`offers_holdout`: sticky, and unknowable without the instance's secret) picks random eligible
offers; otherwise ranks them with the last fitted model (`learn.store`, cached in-process by
its `fitted_at`; before the first fit every offer scores the same) and re-ranks online with a
Thompson-sampling bandit per offer and segment (the customer's band or stage): each offer's
acceptance rate is drawn from Beta(prior + accepted, prior + shown − accepted), the prior
leaning towards the model's score (`maths.prior`); (4) records each offer shown as an exposure
and as an `offer_shown` event through the ingest's steps (`ingest.ingest_own`: an investment in
the pulse, on the timeline, seen by the rules), in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Select, Table, bindparam, func, insert, select

from hxpulse.analytics.recommend import Recommender, Suggestion
from hxpulse.config import Settings
from hxpulse.customers.models import Customer
from hxpulse.errors import NotFound
from hxpulse.events.models import Event
from hxpulse.learn import store
from hxpulse.offers import arms, maths
from hxpulse.offers.arms import bump
from hxpulse.offers.catalogue import Catalogue, active_offers
from hxpulse.offers.items import items_of
from hxpulse.offers.models import Exposure, Offer
from hxpulse.offers.settings import SHOWN
from hxpulse.privacy.consent import allows_consent
from hxpulse.pulse import bands

MODEL = "offers"  # its name in fitted_models
offers_t = cast(Table, Offer.__table__)
exposures_t = cast(Table, Exposure.__table__)
customers_t = cast(Table, Customer.__table__)
events_t = cast(Table, Event.__table__)
_MODELS: dict[str, tuple[datetime, Recommender | None]] = {}  # database -> the last model read
_SECRETS: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Shown:
    """One offer served: its score (the bandit's draw; None in the holdout), why, and how."""

    key: str
    name: str
    kind: str
    description: str
    score: float | None
    model_score: float | None
    reason: str
    source: str  # als, together, popular, catalogue, holdout
    arm: str  # model or holdout
    exposure_id: int | None


def current_model(conn: Connection) -> Recommender | None:
    """The last fitted offers model, read once per fit (never waits for one)."""
    fitted_at = store.fitted_at(conn, MODEL)
    if fitted_at is None:
        return None
    where = str(conn.engine.url)
    kept = _MODELS.get(where)
    if kept is not None and kept[0] == fitted_at:
        return kept[1]
    full = store.load(conn, MODEL)
    model = Recommender.from_bytes(full.data) if full is not None and full.data else None
    _MODELS[where] = (fitted_at if full is None else full.fitted_at, model)
    return model


def in_holdout(secret: str, customer_id: int, share: float) -> bool:
    """Whether the customer is in the holdout: HMAC-SHA256 of their id, as a number in [0, 1)."""
    digest = hmac.new(secret.encode(), f"offers-holdout:{customer_id}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big") / 2**64 < share


def _secret(conn: Connection) -> str:
    from hxpulse.auth.service import session_secret

    where = str(conn.engine.url)
    if where not in _SECRETS:
        _SECRETS[where] = session_secret(conn)
    return _SECRETS[where]


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    stage: str
    band: str
    personalise: bool
    erased: bool


def _profile_query() -> Select[Any]:
    given, c = customers_t.alias("given"), customers_t.c
    return (select(c.id, c.stage, c.pulse_key, c.last_return_at, c.created_at,
                   c.open_negatives, c.detractor, c.consent, c.erased_at)
            .join(given, c.id == func.coalesce(given.c.merged_into_id, given.c.id))
            .where(given.c.id == bindparam("customer_id")))  # fmt: skip


_PROFILE = _profile_query()  # built once: an alias's columns cost more to build than to run


def profile(conn: Connection, settings: Settings, customer_id: int, now: datetime) -> Profile:
    """What eligibility reads of the customer (following a merge to the live profile)."""
    r = conn.execute(_PROFILE, {"customer_id": customer_id}).first()
    if r is None:
        raise NotFound(f"customer {customer_id} does not exist")
    live = int(r.id)
    band = bands.classify(bands.recent_bounds(conn, settings.live, now), stage=r.stage,
                          key=float(r.pulse_key), last_return_at=r.last_return_at,
                          created_at=r.created_at, open_negatives=int(r.open_negatives),
                          detractor=bool(r.detractor))  # fmt: skip
    return Profile(live, str(r.stage), band, allows_consent(r.consent, "personalisation"),
                   r.erased_at is not None)  # fmt: skip


def _bought(conn: Connection, settings: Settings, customer_id: int) -> set[str]:
    e = events_t.c
    names = sorted(settings.pulse.purchase_names)
    rows = conn.execute(select(e.properties).where(e.customer_id == customer_id,
                                                   e.type.in_(names)))  # fmt: skip
    return {item for (props,) in rows for item in items_of(props)}


def _departments(conn: Connection, customer_id: int) -> set[str]:
    e = events_t.c
    query = select(e.department).distinct().where(e.customer_id == customer_id)
    rows = conn.execute(query.where(e.department.is_not(None)))
    return {str(d) for (d,) in rows}


def eligible(
    conn: Connection, settings: Settings, who: Profile, now: datetime
) -> tuple[Catalogue, np.ndarray, set[str], np.ndarray]:
    """The active offers `who` may see now (indices into the catalogue, in its order), the
    items they bought, and the offers they may see before those bought are left out (the same
    for everyone of their stage and band: the model's candidate list, indexed once)."""
    catalogue = active_offers(conn)
    if who.erased or not catalogue.rows:
        return catalogue, np.zeros(0, dtype=np.int64), set(), np.zeros(0, dtype=np.int64)
    bought = _bought(conn, settings, who.id) if catalogue.by_item else set()
    departments = _departments(conn, who.id) if catalogue.any_department else set()
    wanted = np.zeros(len(catalogue.rows), dtype=bool)
    for (stages, in_bands, consent, places), members in catalogue.classes.items():
        if (
            (stages and who.stage not in stages)
            or (in_bands and who.band not in in_bands)
            or (consent and not who.personalise)
            or (places and not departments & places)
        ):
            continue
        wanted[members] = True
    moment = now.timestamp()
    wanted &= (catalogue.starts <= moment) & (moment < catalogue.ends)
    allowed = np.flatnonzero(wanted)
    for item in bought:
        for index in catalogue.by_item.get(item, ()):
            wanted[index] &= bool(catalogue.keep_bought[index])
    return catalogue, np.flatnonzero(wanted), bought, allowed


def _context_item(
    conn: Connection, settings: Settings, customer_id: int, context: str | None, items: set[str]
) -> str | None:
    """The item `context` means: itself when it is an item, else the item named by the
    customer's latest event of that type (someone who just registered for a marathon)."""
    if not context:
        return None
    if context in items:
        return context
    e = events_t.c
    names = settings.pulse.names_of([settings.pulse.canonical(context)])
    props = conn.execute(select(e.properties).where(e.customer_id == customer_id,
                                                    e.type.in_(names))
                         .order_by(e.occurred_at.desc()).limit(1)).scalar()  # fmt: skip
    found = items_of(props)
    return found[0] if found else context


MODEL_TOP = 200  # the model's best items asked for; the others count as unknown to it


def _ranked(
    conn: Connection, settings: Settings, who: Profile, catalogue: Catalogue, chosen: np.ndarray,
    bought: set[str], context: str | None, segment: str, n: int, rng: random.Random,
    now: datetime, allowed: np.ndarray,
) -> list[Shown]:  # fmt: skip
    rows = catalogue.rows
    items = list(dict.fromkeys(catalogue.items[chosen[catalogue.has_item[chosen]]].tolist()))
    # the bought are excluded by the model: the same candidate list for a whole class
    pool = list(dict.fromkeys(catalogue.items[allowed[catalogue.has_item[allowed]]].tolist()))
    model = current_model(conn)
    suggestions: dict[str, Suggestion] = {}
    hint = None
    if model is not None and items:
        hint = _context_item(conn, settings, who.id, context, set(items))
        for found in model.recommend(who.id, context=hint, candidates=pool, exclude=bought,
                                     n=min(len(items), MODEL_TOP), explain=False):  # fmt: skip
            if found.score > 0:
                suggestions[found.item] = found
    top = max((found.score for found in suggestions.values()), default=0.0)
    # the model's view as a share of the best candidate's score: unknown to it 0, an offer
    # without an item (or no model) neutral
    share = np.where(catalogue.has_item, 0.0, 0.5) if top > 0 else np.full(len(rows), 0.5)
    for item, found in suggestions.items():
        share[catalogue.by_item.get(item, [])] = found.score / top
    shown, accepted = arms.counts(conn, catalogue, segment, now)
    thetas = maths.draws(share[chosen], shown[chosen], accepted[chosen], rng)
    best = np.argsort(-thetas, kind="stable")[:n]
    picked = [rows[int(chosen[j])] for j in best.tolist()]
    if model is not None:  # reasons for the few shown, not for every candidate scored
        told = model.explain(who.id, [suggestions[r.item] for r in picked
                                      if r.item in suggestions], context=hint)  # fmt: skip
        suggestions.update((s.item, s) for s in told)
    drawn = []
    for j, r in zip(best.tolist(), picked, strict=True):
        s = suggestions.get(r.item) if r.item else None
        times, took = int(shown[chosen[j]]), int(accepted[chosen[j]])
        reason = s.reason if s is not None else "in the catalogue"
        if times:
            reason += f"; accepted {took:,} of {times:,} times shown to {segment} customers"
        drawn.append(Shown(r.key, r.name, r.kind, r.description, round(float(thetas[j]), 6),
                           None if s is None else s.score, reason,
                           s.source if s is not None else "catalogue", "model", None))  # fmt: skip
    return drawn


def _holdout(catalogue: Catalogue, chosen: np.ndarray, n: int, rng: random.Random) -> list[Shown]:
    picked = [catalogue.rows[i] for i in rng.sample(chosen.tolist(), min(n, len(chosen)))]
    return [Shown(r.key, r.name, r.kind, r.description, None, None,
                  "holdout: a random eligible offer (measures the model's uplift)", "holdout",
                  "holdout", None) for r in picked]  # fmt: skip


def recommend(
    conn: Connection,
    settings: Settings,
    customer_id: int,
    *,
    now: datetime,
    context: str | None = None,
    n: int | None = None,
    record: bool = True,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """The customer's next best offers (see the module); `record` logs each as shown."""
    chooser = rng or random.Random()
    who = profile(conn, settings, customer_id, now)
    catalogue, chosen, bought, allowed = eligible(conn, settings, who, now)
    segment = who.band if settings.offers_segment == "band" else who.stage
    holdout = in_holdout(_secret(conn), who.id, settings.offers_holdout)
    count = n or settings.offers_shown
    served = (_holdout(catalogue, chosen, count, chooser) if holdout
              else _ranked(conn, settings, who, catalogue, chosen, bought, context, segment,
                           count, chooser, now, allowed))  # fmt: skip
    if record and served:
        by_key = {s.key: catalogue.key_ids[s.key] for s in served}
        served = _record(conn, settings, who.id, served, by_key, segment, context, now)
    return {
        "customer_id": who.id,
        "arm": "holdout" if holdout else "model",
        "segment": segment,
        "context": context,
        "offers": [asdict(s) for s in served],
    }


def _record(
    conn: Connection, settings: Settings, customer_id: int, served: list[Shown],
    ids: dict[str, int], segment: str, context: str | None, now: datetime,
) -> list[Shown]:  # fmt: skip
    from hxpulse.events.schemas import EventIn
    from hxpulse.ingest import ingest_own

    made, events = [], []
    rows = [{"customer_id": customer_id, "offer_id": ids[s.key], "shown_at": now, "arm": s.arm,
             "segment": segment[:40], "context": None if context is None else context[:200],
             "score": s.score, "reason": s.reason[:300]} for s in served]  # fmt: skip
    made_ids = conn.execute(insert(exposures_t).returning(exposures_t.c.id,
                                                          sort_by_parameter_order=True),
                            rows).scalars().all()  # fmt: skip
    for s, exposure in zip(served, made_ids, strict=True):
        made.append(Shown(**{**asdict(s), "exposure_id": int(exposure)}))
        events.append(EventIn(message_id=f"offer_shown:{exposure}", kind="track", type=SHOWN,
                              occurred_at=now, identities=[], source="offers",
                              properties={"offer": s.key, "exposure_id": int(exposure),
                                          "arm": s.arm}))  # fmt: skip
    bump(conn, [(ids[s.key], segment[:40]) for s in served], shown=1)
    ingest_own(conn, events, customer_id, now=now, live=settings.live)
    return made
