"""Real labelled review sentences and the AFINN-165 lexicon, for measuring the text analysis.

The UCI "Sentiment Labelled Sentences" set (Kotzias, Denil, de Freitas & Smyth 2015, "From
Group to Individual Labels using Deep Features", KDD): 1,000 sentences each from Amazon phone
reviews, IMDb movie reviews and Yelp restaurant reviews, each labelled positive or negative,
as shipped in the npm package `sentiment` 5.0.2 (MIT) under `test/fixtures/{amazon,imdb,yelp}.json`,
with the AFINN-165 lexicon (Nielsen 2011; word → −5..5) under `languages/en/labels.json`.

The product does not ship this data. `make test` and `make bench` install the package into
`.cache/reviews` of the repository; `HXPULSE_REVIEWS_DIR` names another copy of the package
folder. Used by bench/themes.py and tests/analytics/test_quality.py.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hxpulse.analytics.themes import ThemeModel

SOURCES = ("amazon", "imdb", "yelp")  # phones, movies, restaurants
PACKAGE = Path(".cache") / "reviews" / "node_modules" / "sentiment"
ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[a-z0-9']+")


class ReviewsMissing(RuntimeError):
    """The labelled sentences are not installed."""


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    positive: bool
    source: str


def folder() -> Path:
    """The `sentiment` package folder: HXPULSE_REVIEWS_DIR, or the repository's .cache."""
    configured = os.environ.get("HXPULSE_REVIEWS_DIR")
    return Path(configured) if configured else ROOT / PACKAGE


def _read(path: Path) -> object:
    if not path.is_file():
        raise ReviewsMissing(
            f"{path} is missing: run `make test` (or `make {PACKAGE}/package.json`), which"
            " installs the npm package sentiment@5.0.2 there, or set HXPULSE_REVIEWS_DIR to"
            " a copy of that package"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def sentences() -> list[Sentence]:
    """The 3,000 labelled sentences, source by source (each file ends with an empty record)."""
    found = []
    for source in SOURCES:
        rows = _read(folder() / "test" / "fixtures" / f"{source}.json")
        assert isinstance(rows, list), f"{source}.json is not a list"
        for row in rows:
            if row["class"] is None and not row["text"]:
                continue
            found.append(Sentence(str(row["text"]), row["class"] == 1, source))
    counts = Counter(s.source for s in found)
    assert counts == dict.fromkeys(SOURCES, 1000), f"expected 1,000 sentences each, got {counts}"
    return found


def afinn() -> dict[str, int]:
    """The AFINN-165 lexicon: word → −5..5."""
    lexicon = _read(folder() / "languages" / "en" / "labels.json")
    assert isinstance(lexicon, dict)
    return {str(word): int(value) for word, value in lexicon.items()}


def afinn_score(text: str, lexicon: dict[str, int]) -> int:
    """The baseline: the sum of the AFINN values of the text's words (no rules)."""
    return sum(lexicon.get(word, 0) for word in WORD.findall(text.lower()))


def purity(truth: Sequence[str], clusters: Sequence[int]) -> float:
    """Share of items whose cluster's most common true label is their own."""
    by_cluster: dict[int, Counter[str]] = {}
    for label, cluster in zip(truth, clusters, strict=True):
        by_cluster.setdefault(cluster, Counter())[label] += 1
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / max(len(truth), 1)


@dataclass(frozen=True, slots=True)
class Separation:
    """How well themes separate the sources: each text counted under its largest theme."""

    coverage: float  # share of texts with a theme
    purity: float  # over the texts with a theme
    nmi: float  # normalised mutual information, over the texts with a theme
    nmi_all: float  # over all texts, "no theme" counted as one more cluster


def separation(model: ThemeModel, texts: Sequence[str], truth: Sequence[str]) -> Separation:
    """The themes' separation of `truth` (e.g. the sources) on `texts`."""
    from sklearn.metrics import normalized_mutual_info_score

    main = [found[0][0] if found else -1 for found in model.assign(texts)]
    kept = [i for i, theme in enumerate(main) if theme >= 0]
    some_truth, some_main = [truth[i] for i in kept], [main[i] for i in kept]
    return Separation(
        coverage=len(kept) / len(texts),
        purity=purity(some_truth, some_main),
        nmi=float(normalized_mutual_info_score(some_truth, some_main)),
        nmi_all=float(normalized_mutual_info_score(truth, main)),
    )
