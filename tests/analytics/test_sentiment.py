"""Sentiment scores of answers: VADER's compound score."""

from __future__ import annotations

import pytest

from hxpulse.analytics import sentiment


@pytest.mark.parametrize(
    "text",
    [
        "The staff were wonderful and the delivery was quick. Thank you!",
        "I love this shop, great prices and friendly people.",
        "Excellent service, highly recommended.",
    ],
)
def test_clearly_positive(text: str) -> None:
    assert sentiment.score(text) > 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Terrible service, the parcel arrived broken and nobody answered my emails.",
        "The worst experience I have ever had. Rude staff and awful food.",
        "I hate this app, it crashes all the time and support is useless.",
    ],
)
def test_clearly_negative(text: str) -> None:
    value = sentiment.score(text)
    assert value < sentiment.NEGATIVE
    assert sentiment.is_strongly_negative(value)


def test_negation_turns_the_sign() -> None:
    assert sentiment.score("The delivery was good") > 0
    assert sentiment.score("The delivery was not good") < 0


def test_neutral_and_empty() -> None:
    assert sentiment.score(None) == 0.0
    assert sentiment.score("") == 0.0
    assert sentiment.score("   \n") == 0.0
    assert abs(sentiment.score("The parcel arrived on Tuesday.")) < sentiment.POSITIVE
    assert not sentiment.is_strongly_negative(0.0)
    assert sentiment.is_strongly_negative(-0.5)


def test_score_many_keeps_order_and_range() -> None:
    texts = ["Great!", None, "Awful.", "It is a chair."]
    values = sentiment.score_many(texts)
    assert values == [sentiment.score(t) for t in texts]
    assert values[0] > 0 > values[2] and values[1] == 0.0
    assert all(-1.0 <= v <= 1.0 for v in values)
