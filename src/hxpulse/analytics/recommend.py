"""Recommendations from who did what: "customers like you", "bought together", popular.

The contract the offers domain serves from (`Recommender.fit`, `.recommend`, bytes in and out).
Items are strings (an offer's `item`: what a purchase or engagement event names); customers
are customer ids. This first version ranks by popularity only.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Suggestion:
    item: str
    score: float
    reason: str  # in plain words: "bought by 38 customers who also bought X"
    source: str  # als, together, popular


@dataclass(slots=True)
class Recommender:
    popular: Counter[str] = field(default_factory=Counter)  # item -> distinct customers
    seen: dict[int, set[str]] = field(default_factory=dict)  # customer -> their items

    @classmethod
    def fit(
        cls,
        rows: Iterable[tuple[int, str, float]],
        *,
        seed: int = 0,
        progress: Callable[[str, float], None] | None = None,
    ) -> Recommender:
        """Fit on (customer, item, weight) rows: a purchase weighs more than a view."""
        model = cls()
        for customer, item, _weight in rows:
            mine = model.seen.setdefault(customer, set())
            if item not in mine:
                mine.add(item)
                model.popular[item] += 1
        if progress is not None:
            progress("popularity", 1.0)
        return model

    def recommend(
        self,
        customer: int | None,
        *,
        context: str | None = None,
        candidates: Sequence[str] | None = None,
        exclude: Collection[str] = (),
        n: int = 10,
    ) -> list[Suggestion]:
        """The best `n` of `candidates` (None: every known item) for `customer`, each with its
        reason; `context` is the item of the latest event, when there is one."""
        pool = candidates if candidates is not None else list(self.popular)
        ranked = sorted((i for i in pool if i not in exclude),
                        key=lambda i: (-self.popular.get(i, 0), i))[:n]  # fmt: skip
        return [Suggestion(i, float(self.popular.get(i, 0)),
                           f"popular: bought by {self.popular.get(i, 0):,} customers", "popular")
                for i in ranked]  # fmt: skip

    def to_bytes(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> Recommender:
        model = pickle.loads(data)  # noqa: S301 - our own table, written by `fit`
        if not isinstance(model, cls):
            raise TypeError("the stored offers model is not a Recommender")
        return model
