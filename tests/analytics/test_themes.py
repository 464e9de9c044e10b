"""Theme discovery (TF-IDF + NMF) and assignment of answers, old and new, to the themes."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from hxpulse.analytics.themes import (
    MAX_THEMES,
    MIN_THEMES,
    ThemeModel,
    discover,
    name_of,
    theme_count,
)

# three topics a shop's survey answers are about, written in varied words
TOPICS = {
    "delivery": (
        ["The delivery", "My parcel", "The package", "Shipping", "The courier", "Delivery"],
        [
            "arrived late",
            "was late again",
            "took two weeks to arrive",
            "came damaged and late",
            "was delayed",
            "arrived at the wrong address",
            "left the parcel outside",
            "never turned up on the delivery day",
        ],
    ),
    "staff": (
        ["The staff", "The shop assistant", "Your team", "The people at the counter", "Staff"],
        [
            "were friendly and helpful",
            "was so friendly",
            "were helpful and kind",
            "were rude and unhelpful",
            "smiled and helped me find everything",
            "were friendly, staff knew the products",
            "answered every question kindly",
        ],
    ),
    "price": (
        ["The price", "The cost", "It", "The subscription", "Prices"],
        [
            "is too expensive",
            "costs too much money",
            "is cheap for what you get",
            "went up again, too expensive",
            "is overpriced compared to other shops",
            "is fair for the price",
            "costs more than it is worth",
        ],
    ),
}
KEYWORDS = {
    "delivery": {"delivery", "parcel", "package", "shipping", "courier", "arrived", "late"},
    "staff": {"staff", "friendly", "helpful", "assistant", "team", "people", "kind", "rude"},
    "price": {"price", "expensive", "cost", "costs", "cheap", "money", "overpriced", "prices"},
}
OPENERS = ["", "Honestly, ", "To be fair, ", "I think ", "Well, ", "Overall "]


def corpus(per_topic: int = 40, seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, topics = [], []
    for topic, (subjects, predicates) in TOPICS.items():
        for _ in range(per_topic):
            texts.append(f"{rng.choice(OPENERS)}{rng.choice(subjects)} {rng.choice(predicates)}.")
            topics.append(topic)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [topics[i] for i in order]


TEXTS, LABELS = corpus()


@pytest.fixture(scope="module")
def model() -> ThemeModel:
    return discover(TEXTS, 3, seed=0)


def test_three_topics_are_recovered(model: ThemeModel) -> None:
    assert len(model.themes) == 3
    assigned = model.assign(TEXTS)
    seen = set()
    for topic, words in KEYWORDS.items():
        mine = [
            found[0][0]
            for found, label in zip(assigned, LABELS, strict=True)
            if label == topic and found
        ]
        total = LABELS.count(topic)
        theme, hits = Counter(mine).most_common(1)[0]
        assert hits >= 0.8 * total, (topic, Counter(mine), total)
        name = model.themes[theme].name
        assert set(name.split(" · ")) & words, (topic, name)
        seen.add(theme)
    assert len(seen) == 3  # a theme of its own for each topic


def test_themes_have_names_and_weighted_words(model: ThemeModel) -> None:
    for i, theme in enumerate(model.themes):
        assert theme.index == i
        assert 1 <= len(theme.name.split(" · ")) <= 3
        assert 3 <= len(theme.words) <= 20
        weights = [w for _, w in theme.words]
        assert weights == sorted(weights, reverse=True) and weights[-1] > 0
        assert theme.mentions == sum(any(j == i for j, _ in found) for found in model.assign(TEXTS))
    assert sorted(model.themes, key=lambda t: t.index) == model.themes


def test_filler_and_stop_words_make_no_theme(model: ThemeModel) -> None:
    words = {w for theme in model.themes for term, _ in theme.words for w in term.split()}
    assert not words & {"honestly", "think", "overall", "the", "really", "well"}


def test_auto_count_finds_the_topics_too() -> None:
    found = discover(TEXTS)  # 120 answers → 4 themes
    assert len(found.themes) == 4
    names = " ".join(theme.name for theme in found.themes).split(" · ")
    for words in KEYWORDS.values():
        assert any(set(theme.name.split(" · ")) & words for theme in found.themes), names


def test_json_round_trip_assigns_the_same(model: ThemeModel) -> None:
    stored = json.loads(json.dumps(model.to_json()))
    again = ThemeModel.from_json(stored)
    assert again.themes == model.themes
    assert again.assign(TEXTS) == model.assign(TEXTS)
    assert again.to_json() == stored


def test_a_new_answer_gets_the_themes_it_got_in_the_batch(model: ThemeModel) -> None:
    stored = ThemeModel.from_json(json.loads(json.dumps(model.to_json())))
    batch = model.assign(TEXTS)
    for i in (0, 17, 63, 118):
        assert stored.assign([TEXTS[i]]) == [batch[i]]
    new = stored.assign(
        [
            "My parcel arrived late and damaged.",
            "Friendly staff, but far too expensive.",
            "Nothing to add.",
            "",
            None,
        ]
    )
    delivery, staff, price = (
        next(t.index for t in model.themes if set(t.name.split(" · ")) & KEYWORDS[k])
        for k in ("delivery", "staff", "price")
    )
    assert new[0][0][0] == delivery
    assert {staff, price} <= {j for j, _ in new[1]}  # two themes in one answer
    assert new[2] == new[3] == new[4] == []


def test_discovery_is_repeatable() -> None:
    assert discover(TEXTS, 3, seed=0).to_json() == discover(TEXTS, 3, seed=0).to_json()


@pytest.mark.parametrize(
    "texts",
    [
        [],
        [""],
        ["", "   ", None],
        ["Only one answer here."],
        ["the and of", "really just would"],  # stop and filler words only
        ["delivery late", "courier lost"],  # no word in two answers
    ],
)
def test_tiny_inputs_give_no_themes(texts: list[str | None]) -> None:
    found = discover(texts)
    assert found.themes == []
    assert found.assign(["The delivery was late."]) == [[]]
    assert ThemeModel.from_json(json.loads(json.dumps(found.to_json()))).themes == []


def test_fewer_answers_than_themes() -> None:
    texts = [
        "Delivery was late",
        "Late delivery again",
        "Friendly staff",
        "Staff very friendly",
        "Too expensive price",
    ]
    found = discover(texts, n_themes=10)
    assert 1 <= len(found.themes) <= 3  # never more than the answers or the words
    assert len(found.assign(texts)) == len(texts)


def test_theme_count_and_names() -> None:
    assert theme_count(0) == theme_count(100) == MIN_THEMES
    assert theme_count(2_000) == 10
    assert theme_count(4_500) == theme_count(1_000_000) == MAX_THEMES
    assert (
        name_of(["late delivery", "delivery", "parcel", "late", "box"])
        == "late · delivery · parcel"
    )


def test_other_formats_are_refused(model: ThemeModel) -> None:
    stored = model.to_json()
    with pytest.raises(ValueError, match="format"):
        ThemeModel.from_json({**stored, "format": "other/9"})
    with pytest.raises(ValueError, match="tokenizer"):
        ThemeModel.from_json({**stored, "ngram_range": [1, 3]})


def test_assignment_does_not_depend_on_the_batch(model: ThemeModel) -> None:
    batch = model.assign(TEXTS)
    assert model.assign(TEXTS[::-1]) == batch[::-1]
    assert model.assign(TEXTS[40:47] + ["Shipping was late."])[:7] == batch[40:47]
