"""A text model learnt from a business's own answers: does a why come with a negative score?

Every survey answer carries its own label, its score: the why of a detractor (or of the
negative band of a CSAT, CES or custom survey) is a negative text, every other why is not.
`compare` fits a logistic regression on three kinds of feature of the why:

- words and word pairs seen in at least two answers, TF-IDF (sublinear term frequency), so
  the business's own words count ("the drop was sick" from a skate shop's promoters, "ghosted"
  from its detractors);
- character 2- to 5-grams inside word boundaries (seen in at least two answers), which carry
  spelling variants, word endings and misspellings that words miss;
- VADER's compound score (`analytics.sentiment`), so the model starts from the lexicon's
  knowledge and only has to learn where this business's answers differ from it. On the labelled
  review sentences this is what makes a few hundred answers enough (bench/text.py: fitted on
  200 sentences, the text features alone reach a held-out AUC of 0.75, with VADER's score
  beside them 0.91, against VADER's 0.89; fitted on 2,000: 0.91, 0.94 and 0.89).

It keeps a quarter of the answers out (stratified by label, seeded), fits on the rest, and
compares the ROC AUC of its probability of "negative" on the held-out answers with the AUC of
VADER's (negated) compound on the same answers. The model is used only when it is strictly
better; the one served is then refit on every answer. Below `min_answers` answers, or
`min_each` of either class, nothing is fitted and VADER stays.

Scale. Served sentiment is `1 − 2·P(negative)`, in −1 … 1 like VADER's compound (negative
below 0), so the stored `sentiment` column, the flag threshold `[surveys] negative_sentiment`
(−0.5 reads P(negative) ≥ 0.75) and everything that reads them keep their meaning. Unlike
VADER's compound it is a calibrated probability of this business's negative band, so its
spread depends on how often answers are negative.

What it keeps: only words, word pairs and character sequences found in at least two answers
(as accurate as keeping every one on the review sentences), so a word only one customer wrote,
such as their name, is not in the stored model.

Serialisation: the fitted scikit-learn pipeline, pickled (`to_bytes`). It is only ever read
back from the product's own `fitted_models` table, which only `hxpulse fit` writes; whoever can
write that table can already change every answer. A pickle may not load under another
scikit-learn version: the caller falls back to VADER then (and a refit mends it).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hxpulse.analytics import sentiment

HELD_OUT = 0.25  # share of answers kept out of the fit to compare the model with VADER
C = 4.0  # inverse regularisation strength of the logistic regression (bench/text.py)
WORD_FEATURES = 200_000
CHAR_FEATURES = 300_000

Used = Literal["model", "vader"]


def vader_column(texts: Sequence[str]) -> Any:
    """VADER's compound score of each text as a one-column sparse matrix (a model feature)."""
    from scipy.sparse import csr_matrix

    return csr_matrix(np.asarray(sentiment.score_many(texts), dtype=float).reshape(-1, 1))


def pipeline(*, with_vader: bool = True, seed: int = 0) -> Any:
    """The unfitted scikit-learn pipeline: features (above) → logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    parts: list[tuple[str, Any]] = [
        ("words", TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=WORD_FEATURES)),
        ("chars", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
            max_features=CHAR_FEATURES)),
    ]  # fmt: skip
    if with_vader:
        parts.append(("vader", FunctionTransformer(vader_column, accept_sparse=True)))
    return Pipeline(
        [
            ("features", FeatureUnion(parts)),
            ("model", LogisticRegression(C=C, max_iter=2000, random_state=seed)),
        ]
    )


def negativity(model: Any, texts: Sequence[str]) -> list[float]:
    """P(negative) of each text under a fitted pipeline."""
    if not texts:
        return []
    return [float(p) for p in model.predict_proba(list(texts))[:, 1]]


def scores(model: Any, texts: Sequence[str | None]) -> list[float]:
    """The served sentiment, 1 − 2·P(negative), −1..1; 0.0 for an empty or missing text
    (as `sentiment.score`)."""
    filled = [i for i, text in enumerate(texts) if text is not None and text.strip()]
    found = [0.0] * len(texts)
    for i, p in zip(filled, negativity(model, [texts[i] or "" for i in filled]), strict=True):
        found[i] = 1.0 - 2.0 * p
    return found


def to_bytes(model: Any) -> bytes:
    """The pickled pipeline, without the terms the vectorisers left out (older scikit-learn
    versions keep them, in `stop_words_`, for introspection only)."""
    for _, part in model.named_steps["features"].transformer_list:
        if getattr(part, "stop_words_", None) is not None:
            part.stop_words_ = None
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def from_bytes(data: bytes) -> Any:
    """The pipeline `to_bytes` wrote (only ever from the product's own table, see above)."""
    return pickle.loads(data)  # our own table, written by `hxpulse fit` only


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a fit found: the counts, both held-out AUCs and the choice."""

    answers: int
    negatives: int
    held_out: int  # answers the AUCs were measured on (0 when nothing was fitted)
    model_auc: float | None
    vader_auc: float | None
    used: Used
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "negatives": self.negatives,
            "held_out": self.held_out,
            "model_auc": self.model_auc,
            "vader_auc": self.vader_auc,
            "used": self.used,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    comparison: Comparison
    model: Any | None  # the pipeline refit on every answer, when it is used


def auc(negative: Sequence[bool], score_of_negative: Sequence[float]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(list(negative), list(score_of_negative)))


def compare(
    texts: Sequence[str],
    negative: Sequence[bool],
    *,
    min_answers: int,
    min_each: int,
    seed: int = 0,
) -> Outcome:
    """Fit on 75% of the answers, compare with VADER on the other 25%, refit the winner."""
    from sklearn.model_selection import train_test_split

    if len(texts) != len(negative):
        raise ValueError("texts and labels differ in length")
    n, negatives = len(texts), sum(bool(v) for v in negative)
    fewest = min(negatives, n - negatives)
    if n < min_answers or fewest < min_each:
        reason = (
            f"{n:,} answers with a why, {negatives:,} of them negative: a model needs at least"
            f" {min_answers:,}, with {min_each:,} of each kind; VADER is used"
        )
        return Outcome(Comparison(n, negatives, 0, None, None, "vader", reason), None)
    labels = np.asarray(negative, dtype=bool)
    train, test = train_test_split(
        np.arange(n), test_size=HELD_OUT, stratify=labels, random_state=seed
    )
    try:
        held = pipeline(seed=seed).fit([texts[i] for i in train], labels[train])
    except ValueError as exc:  # e.g. no word is in two answers: nothing to learn from
        reason = f"no model could be fitted ({exc}); VADER is used"
        return Outcome(Comparison(n, negatives, 0, None, None, "vader", reason), None)
    test_texts = [texts[i] for i in test]
    model_auc = auc(labels[test], negativity(held, test_texts))
    vader_auc = auc(labels[test], [-v for v in sentiment.score_many(test_texts)])
    if model_auc > vader_auc:
        served = pipeline(seed=seed).fit(list(texts), labels)
        reason = f"the model's held-out AUC {model_auc:.3f} beats VADER's {vader_auc:.3f}"
        used: Used = "model"
    else:
        served = None
        reason = f"VADER's held-out AUC {vader_auc:.3f} is at least the model's {model_auc:.3f}"
        used = "vader"
    comparison = Comparison(n, negatives, len(test), model_auc, vader_auc, used, reason)
    return Outcome(comparison, served)
