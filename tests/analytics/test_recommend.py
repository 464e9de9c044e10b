"""The recommender: ALS taste groups, bought-together counts and reasons, popularity, serving."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hxpulse.analytics.recommend import Recommender, Suggestion

# A's buyers are 1, 2, 3 and 5: three of them bought B, two C, one D; ten others bought only E
TINY = [
    (1, "A", 1.0), (1, "B", 1.0), (1, "C", 1.0), (1, "A", 2.0),  # A twice: still one buyer
    (2, "A", 1.0), (2, "B", 1.0),
    (3, "A", 1.0), (3, "C", 1.0),
    (4, "B", 1.0), (4, "C", 1.0),
    (5, "A", 1.0), (5, "B", 1.0), (5, "D", 1.0),
] + [(c, "E", 1.0) for c in range(6, 16)]  # fmt: skip


def taste_groups(seed: int = 1) -> tuple[list[tuple[int, str, float]], dict[int, int]]:
    """Three groups of 40 customers; each bought 5 of their group's 8 items, and one stray item."""
    rng = random.Random(seed)
    rows, group_of = [], {}
    for customer in range(120):
        group = customer % 3
        group_of[customer] = group
        for k in rng.sample(range(8), 5):
            rows.append((customer, f"g{group}-{k}", 1.0))
        rows.append((customer, f"g{rng.randrange(3)}-{rng.randrange(8)}", 1.0))
    return rows, group_of


@pytest.fixture(scope="module")
def groups() -> tuple[Recommender, list[tuple[int, str, float]], dict[int, int]]:
    rows, group_of = taste_groups()
    return Recommender.fit(rows, seed=3), rows, group_of


def test_als_recovers_planted_taste_groups(groups):
    model, rows, group_of = groups
    hits = total = 0
    for customer, group in group_of.items():
        mine = {item for c, item, _ in rows if c == customer}
        got = model.recommend(customer, exclude=mine, n=2, use=("als",))  # 2 or 3 of theirs left
        assert len(got) == 2
        assert all(s.source == "als" for s in got)
        hits += sum(s.item.startswith(f"g{group}-") for s in got)
        total += len(got)
    assert hits / total >= 0.9


def test_als_reason_names_a_close_item_the_customer_has(groups):
    model, rows, group_of = groups
    got = model.recommend(0, exclude=model.seen[0], n=1)[0]
    assert got.source == "als"
    assert got.reason.startswith("customers like you bought it (close to g")
    named = got.reason.split("close to ")[1].split(",")[0]
    assert named in model.seen[0]


def test_together_counts_and_reasons_are_exact():
    model = Recommender.fit(TINY)
    assert model.together("A") == {"B": 3, "C": 2, "D": 1}
    assert model.together("D") == {"A": 1, "B": 1}
    got = model.recommend(None, context="A", n=3, use=("together",))
    assert [(s.item, s.reason, s.source) for s in got] == [
        ("B", "bought by 3 customers who also bought A", "together"),
        ("C", "bought by 2 customers who also bought A", "together"),
        ("D", "bought by 1 customer who also bought A", "together"),
    ]
    assert got[0].score > got[1].score > got[2].score > 0


def test_the_blend_says_together_where_the_context_lifts_an_item():
    model = Recommender.fit(TINY)
    got = {s.item: s for s in model.recommend(None, context="A")}
    # 3 of A's 4 buyers took B, against 4 of all 15 customers: together
    assert (got["B"].source, got["B"].reason) == (
        "together",
        "bought by 3 customers who also bought A",
    )
    # no buyer of A took E, which 10 of 15 customers bought: popular
    assert (got["E"].source, got["E"].reason) == ("popular", "popular: bought by 10 customers")
    assert list(got)[0] == "B"


def test_popularity_for_an_unknown_customer():
    model = Recommender.fit(TINY)
    for customer in (None, 999):
        got = model.recommend(customer, n=4)
        assert [s.item for s in got] == ["E", "A", "B", "C"]  # 10, 4, 4, 3: ties by first seen
        assert [s.reason for s in got] == [
            f"popular: bought by {n} customers" for n in (10, 4, 4, 3)
        ]
        assert {s.source for s in got} == {"popular"}
    assert model.popular == {"A": 4, "B": 4, "C": 3, "D": 1, "E": 10}


def test_exclude_and_candidates_are_honoured(groups):
    model, _rows, _ = groups
    pool = ["g1-0", "g1-1", "g2-0", "g0-3", "g1-0"]
    got = model.recommend(1, candidates=pool, exclude={"g1-1"}, n=10)
    assert sorted(s.item for s in got) == ["g0-3", "g1-0", "g2-0"]  # once each
    everything = model.recommend(1, exclude=model.seen[1], n=100)
    assert not {s.item for s in everything} & model.seen[1]
    assert len(everything) == len(model.items) - len(model.seen[1])


def test_a_candidate_no_one_has_bought_comes_last():
    model = Recommender.fit(TINY)
    got = model.recommend(2, candidates=["brand-new", "C", "D"], n=3)
    assert {got[0].item, got[1].item} == {"C", "D"}
    assert got[-1] == Suggestion("brand-new", 0.0, "new: no one has bought it yet", "popular")


def test_the_bytes_round_trip_keeps_the_ranking(groups):
    model, _rows, _ = groups
    again = Recommender.from_bytes(model.to_bytes())
    for customer, context in ((0, "g0-1"), (5, None), (None, "g2-2"), (777, None)):
        assert again.recommend(customer, context=context, n=8) == model.recommend(
            customer, context=context, n=8
        )
    assert again.seen[4] == model.seen[4]
    with pytest.raises(TypeError, match="not a Recommender"):
        Recommender.from_bytes(b"not a model")


def test_without_forgets_customers_and_ranks_the_others_as_before(groups):
    model, _rows, _ = groups
    dropped = model.without([0, 7, 4242])  # 4242: never known, nothing to drop
    assert not dropped.knows(0) and not dropped.knows(7) and model.knows(0)  # a copy
    assert len(dropped.seen) == len(model.seen) - 2 and 0 not in dict(dropped.seen)
    assert dropped.forgotten == 2 and dropped.popular == model.popular  # counts over everyone
    again = Recommender.from_bytes(dropped.to_bytes())
    assert not again.knows(0) and again.forgotten == 2
    for customer, context in ((1, "g1-2"), (5, None), (119, None), (None, "g0-0")):
        assert again.recommend(customer, context=context, n=8) == model.recommend(
            customer, context=context, n=8
        )  # the others' rows, factors and popular shares are untouched
    assert all(dropped.seen[c] == model.seen[c] for c in (1, 5, 119))
    assert [s.source for s in again.recommend(0, n=3)] == ["popular"] * 3  # unknown now
    assert model.without([4242]) is model and dropped.without([]) is dropped


def test_the_same_seed_fits_the_same_model():
    rows, _ = taste_groups(seed=2)
    one = Recommender.fit(rows, seed=5, factors=8)
    two = Recommender.fit(rows, seed=5, factors=8)
    other = Recommender.fit(rows, seed=6, factors=8)
    assert np.array_equal(one.user_factors, two.user_factors)
    assert one.recommend(3, n=5) == two.recommend(3, n=5)
    assert not np.array_equal(one.user_factors, other.user_factors)


def test_progress_reports_each_stage_to_the_end():
    seen: list[tuple[str, float]] = []
    Recommender.fit(TINY, progress=lambda stage, fraction: seen.append((stage, fraction)))
    assert [s for s, _ in seen if _ == 1.0] == ["read", "together", "als"]
    assert all(0.0 <= f <= 1.0 for _, f in seen)
    assert [s for s, _ in seen] == sorted(
        (s for s, _ in seen), key=["read", "together", "als"].index
    )


def test_no_rows_gives_a_model_that_recommends_nothing_it_does_not_know():
    model = Recommender.fit([])
    assert model.recommend(1) == []
    assert model.recommend(1, context="A") == []
    got = model.recommend(1, candidates=["X", "Y"], exclude=["Y"])
    assert [s.item for s in got] == ["X"]
    assert Recommender.from_bytes(model.to_bytes()).recommend(None, candidates=["X"]) == got


def test_an_unknown_context_is_no_context():
    model = Recommender.fit(TINY)
    assert model.recommend(4, context="never-seen") == model.recommend(4)
    assert model.together("never-seen") == {}


@pytest.mark.parametrize(
    "row, field",
    [
        ((1, "A", 0.0), "weight"),
        ((1, "A", float("nan")), "weight"),
        ((1, "A", "2"), "weight"),
        ((1, "", 1.0), "item"),
        ((1, 7, 1.0), "item"),
        (("c1", "A", 1.0), "customer"),
    ],
)
def test_bad_rows_are_refused_with_the_row_and_the_field(row, field):
    with pytest.raises(ValueError, match=rf"row 3: the {field}"):
        Recommender.fit([(1, "A", 1.0), (2, "B", 1.0), row])


def test_n_of_zero_or_less_is_nothing():
    model = Recommender.fit(TINY)
    assert model.recommend(1, n=0) == []
    assert model.recommend(1, n=-2) == []


def test_an_unknown_source_is_refused():
    model = Recommender.fit(TINY)
    with pytest.raises(ValueError, match="unknown sources \\['clicks'\\]"):
        model.recommend(1, use=("als", "clicks"))


def test_an_item_no_source_scores_is_said_popular(groups):
    model, _rows, _ = groups
    got = model.recommend(0, context="g0-1", use=("together",), n=len(model.items))
    unscored = [s for s in got if s.score == 0]
    assert unscored and {s.source for s in unscored} == {"popular"}
    assert all(s.reason.startswith("popular: bought by ") for s in unscored)


def test_many_candidate_lists_from_several_threads_rank_as_one_at_a_time(groups):
    model, _rows, _ = groups
    lists = [model.items[k:] + model.items[:k] for k in range(20)]  # more than the lists kept
    alone = [Recommender.from_bytes(model.to_bytes()).recommend(7, candidates=c) for c in lists]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda c: model.recommend(7, candidates=c), lists * 3))
    assert together == alone * 3
