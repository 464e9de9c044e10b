"""Recommendations from who did what: "customers like you", "bought together", popular.

The contract the offers domain serves from (`Recommender.fit`, `.recommend`, bytes in and out).
Items are strings (an offer's `item`: what a purchase or engagement event names); customers
are customer ids.

Three sources, blended into one score per item:

- **als**: implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008, fitted by the
  `implicit` package's conjugate-gradient ALS): "customers like you bought it";
- **together**: item-to-item co-occurrence for the context item (the item of the customer's
  latest event): the share of X's buyers who also took Y, "bought by 38 customers who also
  bought X";
- **popular**: the share of all customers who bought the item, for everyone and alone for new or
  unknown customers: "popular: bought by 1,204 customers".

Each score is on the scale of a probability (ALS's predicted preference, P(Y | X), P(Y)); the
blend is their weighted sum and a suggestion's source is the part that weighs most in it.
"""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hxpulse.analytics import recommend_fit

SOURCES = ("als", "together", "popular")
POOLS_KEPT = 8  # candidate lists indexed and kept between calls


@dataclass(frozen=True, slots=True)
class Suggestion:
    item: str
    score: float
    reason: str  # in plain words: "bought by 38 customers who also bought X"
    source: str  # als, together, popular


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each source counts in the blend (each score is on a probability's scale)."""

    als: float = 1.0
    together: float = 0.1  # P(Y | X) against P(Y): "together" wins where X's buyers take Y more
    popular: float = 0.1
    shrink: float = 0.0  # buyers added to the context item's (a rare item's few buyers say little)


@dataclass(slots=True)
class _Pool:
    """A candidate list indexed once: its known items' columns, factors and popularity."""

    names: list[str]  # the candidates, deduplicated, in the caller's order
    known: np.ndarray  # positions (in names) of the items the model knows
    columns: np.ndarray  # their columns in the model
    factors: np.ndarray  # item factors of those columns, contiguous
    share: np.ndarray  # share of customers who bought each
    at: dict[str, int]  # name -> position among the known (for exclude)
    where: np.ndarray  # model column -> position among the known, -1 when not a candidate


class _Seen(Mapping[int, frozenset[str]]):
    """customer -> the items they have, read from the model's arrays."""

    def __init__(self, model: Recommender) -> None:
        self._model = model

    def __getitem__(self, customer: int) -> frozenset[str]:
        row = self._model._row(customer)
        if row is None:
            raise KeyError(customer)
        return frozenset(self._model.items[c] for c in self._model._columns_of(row))

    def __iter__(self) -> Iterator[int]:
        return (int(c) for c in self._model.customers)

    def __len__(self) -> int:
        return len(self._model.customers)


@dataclass
class Recommender:
    items: list[str] = field(default_factory=list)  # column -> item
    customers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted ids
    indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))  # row -> its items
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # item -> buyers
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    together_indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    together_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    together_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    weights: Weights = field(default_factory=Weights)
    forgotten: int = 0  # customers dropped since the fit (`without`), still in the counts
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _pools: dict[tuple[str, ...] | None, _Pool] = field(
        default_factory=dict, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index = {item: c for c, item in enumerate(self.items)}

    @classmethod
    def fit(
        cls,
        rows: Iterable[tuple[int, str, float]],
        *,
        seed: int = 0,
        progress: Callable[[str, float], None] | None = None,
        factors: int = 64,
        iterations: int = 15,
        regularization: float = 1.0,
        alpha: float = 1.0,
        threads: int = 0,
        together_kept: int = 100,
        weights: Weights | None = None,
    ) -> Recommender:
        """Fit on (customer, item, weight) rows: a purchase weighs more than a view.

        `progress(stage, fraction)` is called as each stage (read, together, als) advances;
        `threads` is the ALS threads (0: one a core; the BLAS pool is held to one thread while
        fitting, as `implicit` advises); the fit is the same for the same rows and `seed`."""
        fitted = recommend_fit.fit(
            rows, seed=seed, progress=progress, factors=factors, iterations=iterations,
            regularization=regularization, alpha=alpha, threads=threads,
            together_kept=together_kept,
        )  # fmt: skip
        return cls(**fitted, weights=weights or Weights())

    def without(self, customer_ids: Iterable[int]) -> Recommender:
        """A copy without these customers' rows (their items and factors), for an erasure.

        What is over everyone stays as fitted: each item's buyers, the item factors and the
        bought-together counts; the popular shares keep their denominator (`forgotten` counts
        the customers dropped). The copy shares no cache with this model, which may be serving."""
        dropped = np.isin(self.customers, np.fromiter(customer_ids, np.int64))
        if not dropped.any():
            return self
        keep = ~dropped
        lengths = np.diff(self.indptr)
        indptr = np.zeros(int(keep.sum()) + 1, self.indptr.dtype)
        np.cumsum(lengths[keep], out=indptr[1:])
        users = self.user_factors
        return Recommender(
            items=list(self.items), customers=self.customers[keep], indptr=indptr,
            indices=self.indices[np.repeat(keep, lengths)],
            counts=self.counts, user_factors=users[keep] if len(users) == len(keep) else users,
            item_factors=self.item_factors, together_indptr=self.together_indptr,
            together_items=self.together_items, together_counts=self.together_counts,
            weights=self.weights, forgotten=self.forgotten + int(dropped.sum()),
        )  # fmt: skip

    # reading the model

    @property
    def popular(self) -> Counter[str]:
        """item -> how many distinct customers bought it."""
        return Counter({item: int(n) for item, n in zip(self.items, self.counts, strict=True)})

    @property
    def seen(self) -> Mapping[int, frozenset[str]]:
        """customer -> the items they have."""
        return _Seen(self)

    def knows(self, customer: int | None) -> bool:
        return customer is not None and self._row(customer) is not None

    def _row(self, customer: int) -> int | None:
        at = int(np.searchsorted(self.customers, customer))
        if at < len(self.customers) and int(self.customers[at]) == customer:
            return at
        return None

    def _columns_of(self, row: int) -> np.ndarray:
        return self.indices[self.indptr[row] : self.indptr[row + 1]]

    def together(self, item: str) -> dict[str, int]:
        """The items most often bought by `item`'s buyers -> how many of them bought each."""
        column = self._index.get(item)
        if column is None:
            return {}
        start, end = self.together_indptr[column], self.together_indptr[column + 1]
        return {self.items[c]: int(n) for c, n in zip(self.together_items[start:end],
                                                       self.together_counts[start:end],
                                                       strict=True)}  # fmt: skip

    # serving

    def recommend(
        self,
        customer: int | None,
        *,
        context: str | None = None,
        candidates: Sequence[str] | None = None,
        exclude: Collection[str] = (),
        n: int = 10,
        use: Collection[str] = SOURCES,
        explain: bool = True,
    ) -> list[Suggestion]:
        """The best `n` of `candidates` (None: every known item) for `customer`, each with its
        reason; `context` is the item of the latest event, when there is one. `use` limits the
        blend to some of its sources (als, together, popular), for comparisons. `explain`
        False leaves the reasons empty (a caller that shows a few of many asks `explain` for
        those few)."""
        if not set(use) <= set(SOURCES):
            raise ValueError(f"use: unknown sources {sorted(set(use) - set(SOURCES))}")
        if n <= 0:
            return []
        pool = self._pool(candidates)
        parts = self._parts(pool, customer, context, use)
        blend = parts.sum(axis=0)
        for item in exclude:
            at = pool.at.get(item)
            if at is not None:
                blend[at] = -np.inf
        top = _top(blend, n)
        out = [self._suggest(pool, int(k), blend, parts, customer, context) for k in top]
        if explain:
            out = self.explain(customer, out, context=context)
        if len(out) < n:
            out += self._unknown(pool, exclude, n - len(out))
        return out

    def _parts(
        self, pool: _Pool, customer: int | None, context: str | None, use: Collection[str]
    ) -> np.ndarray:
        parts = np.zeros((3, len(pool.columns)), np.float32)
        w = self.weights
        row = self._row(customer) if customer is not None and "als" in use else None
        if row is not None and self.user_factors.shape[1]:
            parts[0] = w.als * (pool.factors @ self.user_factors[row])
        column = self._index.get(context) if context is not None and "together" in use else None
        if column is not None and self.counts[column]:
            start, end = self.together_indptr[column], self.together_indptr[column + 1]
            spots = pool.where[self.together_items[start:end]]
            mine = spots >= 0
            shares = self.together_counts[start:end][mine] / (self.counts[column] + w.shrink)
            parts[1, spots[mine]] = w.together * shares
        if "popular" in use:
            parts[2] = w.popular * pool.share
        return parts

    def _suggest(
        self, pool: _Pool, k: int, blend: np.ndarray, parts: np.ndarray,
        customer: int | None, context: str | None,
    ) -> Suggestion:  # fmt: skip
        """The suggestion at position `k` of the pool, its source the part weighing most in
        its score (its reason left for `explain`)."""
        column = int(pool.columns[k])
        best = int(np.argmax(parts[:, k]))
        source = SOURCES[best] if parts[best, k] > 0 else "popular"
        if (source == "als" and customer is None) or (source == "together" and context is None):
            source = "popular"
        return Suggestion(self.items[column], float(blend[k]), "", source)

    def explain(
        self, customer: int | None, suggestions: Sequence[Suggestion], *, context: str | None
    ) -> list[Suggestion]:
        """`suggestions` (of `recommend` for the same customer and context) with their reasons
        in plain words."""
        mine = _Mine(self, customer)  # the customer's items, read once for every reason
        out = []
        for s in suggestions:
            column = self._index.get(s.item)
            if s.reason or column is None:
                out.append(s)
                continue
            if s.source == "als":
                reason = mine.reason(column)
            elif s.source == "together" and context is not None:
                reason = f"bought by {_people(self._together_count(context, column))} who also bought {context}"  # noqa: E501
            else:
                reason = f"popular: bought by {_people(int(self.counts[column]))}"
            out.append(Suggestion(s.item, s.score, reason, s.source))
        return out

    def _together_count(self, context: str, column: int) -> int:
        at = self._index[context]
        start, end = self.together_indptr[at], self.together_indptr[at + 1]
        found = np.flatnonzero(self.together_items[start:end] == column)
        return int(self.together_counts[start + found[0]]) if len(found) else 0

    def _unknown(self, pool: _Pool, exclude: Collection[str], n: int) -> list[Suggestion]:
        known = set(pool.at)
        fresh = (i for i in pool.names if i not in known and i not in exclude)
        return [Suggestion(i, 0.0, "new: no one has bought it yet", "popular")
                for _, i in zip(range(n), fresh, strict=False)]  # fmt: skip

    def _pool(self, candidates: Sequence[str] | None) -> _Pool:
        key = None if candidates is None else tuple(candidates)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._index_pool(self.items if key is None else key)
            with self._lock:  # calls may come from several threads
                while len(self._pools) >= POOLS_KEPT:
                    self._pools.pop(next(iter(self._pools)))
                self._pools[key] = pool
        return pool

    def _index_pool(self, names: Sequence[str]) -> _Pool:
        names = list(dict.fromkeys(names))
        known = [(p, self._index[i]) for p, i in enumerate(names) if i in self._index]
        positions = np.array([p for p, _ in known], np.int64)
        columns = np.array([c for _, c in known], np.int64)
        where = np.full(len(self.items), -1, np.int64)
        where[columns] = np.arange(len(columns))
        factors = np.ascontiguousarray(self.item_factors[columns])
        share = self.counts[columns] / max(len(self.customers) + self.forgotten, 1)
        return _Pool(names, positions, columns, factors, share.astype(np.float32),
                     {names[p]: k for k, p in enumerate(positions)}, where)  # fmt: skip

    # storing

    def to_bytes(self) -> bytes:
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        arrays["items"] = np.array(self.items, dtype=np.str_)
        meta = {"weights": _weights_dict(self.weights), "forgotten": self.forgotten}
        arrays["meta"] = np.array(json.dumps(meta))
        out = io.BytesIO()
        np.savez(out, **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Recommender:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                arrays: dict[str, Any] = {name: stored[name] for name in _ARRAYS}
                items = [str(i) for i in stored["items"]]
                meta = json.loads(str(stored["meta"]))
        except (OSError, ValueError, KeyError) as e:
            raise TypeError(f"the stored offers model is not a Recommender ({e})") from e
        return cls(items=items, **arrays, weights=Weights(**meta["weights"]),
                   forgotten=int(meta.get("forgotten", 0)))  # fmt: skip


_ARRAYS = ("customers", "indptr", "indices", "counts", "user_factors", "item_factors",
           "together_indptr", "together_items", "together_counts")  # fmt: skip


def _weights_dict(w: Weights) -> dict[str, float]:
    return {"als": w.als, "together": w.together, "popular": w.popular, "shrink": w.shrink}


def _people(n: int) -> str:
    return f"{n:,} customer" if n == 1 else f"{n:,} customers"


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the `n` highest finite scores, highest first (ties: the earlier position)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) > n:
        nth = -np.partition(-scores[finite], n - 1)[n - 1]
        finite = finite[scores[finite] >= nth]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order][:n]


class _Mine:
    """One customer's items and their factors, read on the first reason that needs them (a
    request asks for up to a few hundred suggestions: once, not once per suggestion)."""

    def __init__(self, model: Recommender, customer: int | None) -> None:
        self.model, self.customer = model, customer
        self._columns: np.ndarray | None = None
        self._factors: np.ndarray | None = None

    def reason(self, column: int) -> str:
        model = self.model
        if self._columns is None:
            row = model._row(self.customer) if self.customer is not None else None
            self._columns = model._columns_of(row) if row is not None else np.zeros(0, np.int32)
            self._factors = model.item_factors[self._columns]
        if not len(self._columns):
            return "customers like you bought it"
        assert self._factors is not None
        close = self._factors @ model.item_factors[column]
        nearest = model.items[int(self._columns[np.argmax(close)])]
        return f"customers like you bought it (close to {nearest}, which you have)"
