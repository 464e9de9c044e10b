"""The text model against VADER: the minimum of answers, the held-out comparison, the choice,
the served scale and the stored bytes."""

from __future__ import annotations

import random

import pytest

from hxpulse.analytics import sentiment, textmodel
from tests.surveys.slang import whys


def _slang(n: int) -> tuple[list[str], list[bool]]:
    pairs = whys(n)
    return [t for t, _ in pairs], [score <= 6 for _, score in pairs]


def test_too_few_answers_or_too_few_of_a_kind_keep_vader() -> None:
    texts, negative = _slang(150)
    few = textmodel.compare(texts, negative, min_answers=200, min_each=40)
    assert few.model is None and few.comparison.used == "vader"
    assert few.comparison.model_auc is None and few.comparison.held_out == 0
    assert "150 answers" in few.comparison.reason
    texts, negative = _slang(400)
    lopsided = [v and i % 20 == 1 for i, v in enumerate(negative)]  # 20 negatives of 400
    one_sided = textmodel.compare(texts, lopsided, min_answers=200, min_each=40)
    assert one_sided.comparison.used == "vader" and one_sided.comparison.negatives == 20


def test_the_model_wins_where_vader_misreads_the_words() -> None:
    texts, negative = _slang(240)
    got = textmodel.compare(texts, negative, min_answers=200, min_each=40, seed=3)
    c = got.comparison
    assert (c.answers, c.negatives, c.held_out) == (240, 120, 60)
    assert c.vader_auc is not None and c.model_auc is not None
    assert c.vader_auc < 0.5 < 0.95 < c.model_auc  # VADER reads the slang backwards
    assert c.used == "model" and got.model is not None
    new = ["the new trucks are sick", "support ghosted me again"]
    model_says = textmodel.scores(got.model, new)
    vader_says = sentiment.score_many(new)
    assert model_says[0] > 0 > vader_says[0] and model_says[1] < 0 < vader_says[1]


def test_vader_is_kept_when_the_model_does_not_beat_it() -> None:
    rng = random.Random(1)
    good = ("great", "wonderful", "excellent", "lovely", "fantastic")
    bad = ("terrible", "awful", "horrible", "dreadful", "disgusting")
    things = ("service", "staff", "food", "prices", "parcel", "shop")
    texts, negative = [], []
    for i in range(300):
        words = bad if i % 2 else good
        texts.append(f"{rng.choice(words)} {rng.choice(things)} and {rng.choice(things)}")
        negative.append(bool(i % 2))
    got = textmodel.compare(texts, negative, min_answers=200, min_each=40)
    assert got.comparison.vader_auc == 1.0  # VADER is perfect here: a model can only tie
    assert got.comparison.used == "vader" and got.model is None
    assert "VADER's held-out AUC 1.000" in got.comparison.reason


def test_scores_are_on_vaders_scale_and_survive_the_bytes() -> None:
    texts, negative = _slang(240)
    model = textmodel.compare(texts, negative, min_answers=200, min_each=40).model
    assert model is not None
    probe = [*texts[:50], "", "   ", None, "something else entirely"]
    found = textmodel.scores(model, probe)
    assert all(-1.0 <= v <= 1.0 for v in found)
    assert found[50:53] == [0.0, 0.0, 0.0]  # no text: 0.0, as sentiment.score
    p = textmodel.negativity(model, texts[:50])
    assert found[:50] == pytest.approx([1 - 2 * q for q in p])
    again = textmodel.from_bytes(textmodel.to_bytes(model))
    assert textmodel.scores(again, probe) == found


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="length"):
        textmodel.compare(["a", "b"], [True], min_answers=1, min_each=1)


def test_a_word_only_one_answer_wrote_is_not_kept() -> None:
    texts, negative = _slang(240)
    texts[0] = f"{texts[0]}, thanks Zebulon"
    model = textmodel.compare(texts, negative, min_answers=200, min_each=40).model
    assert model is not None
    kept = [
        term
        for _, part in model.named_steps["features"].transformer_list
        for term in getattr(part, "vocabulary_", {})
    ]
    assert "sick" in kept and "ghosted" in kept
    assert not [term for term in kept if "zebul" in term or "ebulo" in term]
    assert b"ebulo" not in textmodel.to_bytes(model)


def test_answers_without_a_shared_word_keep_vader() -> None:
    texts = [f"x{i}" for i in range(240)]  # nothing two answers share
    got = textmodel.compare(texts, [bool(i % 2) for i in range(240)], min_answers=200, min_each=40)
    assert got.model is None and got.comparison.used == "vader"
    assert "no model could be fitted" in got.comparison.reason
