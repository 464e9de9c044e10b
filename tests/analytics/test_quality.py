"""Quality on real labelled review text: 3,000 sentences from Amazon, IMDb and Yelp reviews.

The data (the UCI "Sentiment Labelled Sentences", in the npm package `sentiment` 5.0.2) is
installed by `make test`; without it these tests fail, they do not skip. Floors are the
figures measured with bench/themes.py minus a margin: VADER's ROC AUC 0.898 and accuracy
0.819 (AFINN-165's word sum: 0.857 and 0.778); themes found in the mixed sentences: purity
0.866 over the 39 % of sentences given a theme, NMI 0.228 over all of them (chance, with the
sources shuffled: purity 0.38–0.39, NMI 0.003).
"""

from __future__ import annotations

import importlib.util
import random
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sklearn.metrics import roc_auc_score

from hxpulse.analytics import sentiment, themes

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load_reviews() -> ModuleType:
    """bench/reviews.py, the loader the benchmark uses (bench/ is not a package)."""
    name = "hxpulse_bench_reviews"
    spec = importlib.util.spec_from_file_location(name, BENCH / "reviews.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


reviews = _load_reviews()


@cache
def _sentences() -> list[Any]:
    try:
        return list(reviews.sentences())
    except reviews.ReviewsMissing as missing:
        message = str(missing)
    pytest.fail(message, pytrace=False)


def test_sentiment_ranks_positive_above_negative() -> None:
    sentences = _sentences()
    labels = [s.positive for s in sentences]
    scores = sentiment.score_many([s.text for s in sentences])
    auc = roc_auc_score(labels, scores)
    accuracy = sum((v >= sentiment.POSITIVE) == y for v, y in zip(scores, labels, strict=True))
    assert auc >= 0.87, auc
    assert accuracy / len(labels) >= 0.79, accuracy
    for source in reviews.SOURCES:
        mine = [i for i, s in enumerate(sentences) if s.source == source]
        assert roc_auc_score([labels[i] for i in mine], [scores[i] for i in mine]) >= 0.85
    lexicon = reviews.afinn()
    baseline = roc_auc_score(labels, [reviews.afinn_score(s.text, lexicon) for s in sentences])
    assert auc > baseline  # VADER's rules (negation, "but", intensity) beat the word sum


def test_themes_separate_phones_movies_and_restaurants() -> None:
    sentences = _sentences()
    texts = [s.text for s in sentences]
    truth = [s.source for s in sentences]
    model = themes.discover(texts, seed=0)
    assert len(model.themes) == themes.theme_count(len(texts))
    found = reviews.separation(model, texts, truth)
    assert found.coverage >= 0.3, found
    assert found.purity >= 0.80, found
    assert found.nmi_all >= 0.18, found
    shuffled = truth[:]
    random.Random(0).shuffle(shuffled)
    chance = reviews.separation(model, texts, shuffled)
    assert found.nmi_all > 10 * chance.nmi_all and found.purity > chance.purity + 0.3
