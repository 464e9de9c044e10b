"""Themes of free-text answers, discovered from the answers themselves (TF-IDF + NMF).

Discovery (`discover`): the answers become TF-IDF vectors (scikit-learn `TfidfVectorizer`:
lower case; words of two or more characters that start with a letter; no English stop words,
survey filler words or general verdicts such as "great" and "bad", since how an answer feels
is sentiment's job; unigrams and bigrams; sublinear term frequency; words in fewer than
`min_df` answers dropped so that typos make no themes, and words in more than half of them
dropped as telling no theme apart). Non-negative matrix factorisation (`NMF`, Frobenius loss,
coordinate descent, NNDSVDa start seeded by `seed`) splits that matrix into themes × words.
Each theme keeps its `MODEL_WORDS` heaviest words, scaled to unit length; its name is its
first `NAME_WORDS` distinct words ("delivery · late · parcel"). Themes come largest first, by
their share of the answers' TF-IDF weight.

How many themes, when not given: k = round(sqrt(n / 20)) for n non-empty answers, bounded to
4..15 (100 answers → 4, 500 → 5, 2,000 → 10, 4,500 and more → 15), and never more than the
answers or the words there are. Themes that come out empty are dropped, so fewer can be
returned; answers where no word occurs twice give no themes at all.

Assignment (`ThemeModel.assign`), the same for the discovery answers and for new ones: an
answer's TF-IDF vector over the model's own words (sublinear tf × the stored idf, unit
length) is explained as a non-negative mix of the theme vectors (non-negative least squares
by coordinate descent); a theme is mentioned when its share is at least `MIN_WEIGHT` (0.1; an
answer made only of one theme's top words has a share near 1). Because only the model's words
count, a theme mentioned in a long answer counts as it does in a short one. The model is plain
data (stop words, the idf of its words, each theme's word weights) and round-trips through
JSON, so a stored model assigns new answers exactly as it did when it was discovered.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FORMAT = "hxpulse.themes/1"
# common in survey answers and saying nothing about what they are about
FILLER_WORDS = (
    "really very just would could also get got getting much many lot lots bit thing things "
    "ok okay yes yeah thanks thank think definitely pretty quite overall always ever still "
    "even well way make made did does doing don didn doesn isn wasn weren won wouldn couldn "
    "shouldn aren haven hasn ve ll im ive dont honestly frankly actually basically literally "
    "maybe probably"
).split()
# praise and blame in general: how the answer feels is sentiment's job (sentiment.py); left in,
# they make themes such as "great · good · love" that say nothing of what the answer is about
VERDICT_WORDS = (
    "good great bad best better worst love loved like liked excellent nice amazing awesome "
    "terrible horrible poor happy recommend highly"
).split()
TOKEN_PATTERN = r"(?u)\b[^\W\d_]\w+\b"  # two or more characters, starting with a letter
NGRAMS = (1, 2)
MIN_THEMES, MAX_THEMES = 4, 15
ANSWERS_PER_THEME_SQUARED = 20  # k = sqrt(n / 20)
MIN_DF_SHARE = 0.0005  # a word must be in 2 answers, and in 1 of 2,000 in large sets
MAX_DF = 0.5
MAX_FEATURES = 20_000
NMF_MAX_ITER = 300
TOP_WORDS = 20  # shown for each theme
MODEL_WORDS = 100  # kept for each theme to assign answers with
NAME_WORDS = 3
MIN_WEIGHT = 0.1
DUPLICATE = 0.8  # cosine of two themes' words above which the smaller one is dropped

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Theme:
    """A discovered theme: its name, its heaviest words, how many discovery answers mention it."""

    index: int
    name: str
    words: list[tuple[str, float]]
    mentions: int = 0


def stop_words() -> list[str]:
    """English stop words (scikit-learn's list), survey filler and verdict words, sorted."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(set(ENGLISH_STOP_WORDS) | set(FILLER_WORDS) | set(VERDICT_WORDS))


def theme_count(answers: int) -> int:
    """The number of themes to look for in `answers` non-empty answers."""
    guess = round(math.sqrt(answers / ANSWERS_PER_THEME_SQUARED))
    return max(MIN_THEMES, min(MAX_THEMES, guess))


def name_of(terms: Sequence[str]) -> str:
    """The first `NAME_WORDS` distinct words of `terms` (heaviest first), joined by ' · '."""
    words: list[str] = []
    for term in terms:
        for word in term.split():
            if word not in words and len(words) < NAME_WORDS:
                words.append(word)
    return " · ".join(words)


class ThemeModel:
    """Themes and what is needed to assign answers to them; plain data, JSON round trip."""

    def __init__(
        self,
        *,
        themes: list[Theme],
        weights: list[dict[str, float]],
        idf: dict[str, float],
        stop_words: list[str],
        min_weight: float = MIN_WEIGHT,
        answers: int = 0,
    ) -> None:
        if len(themes) != len(weights):
            raise ValueError(f"{len(themes)} themes but {len(weights)} weight lists")
        missing = {term for row in weights for term in row} - set(idf)
        if missing:
            raise ValueError(f"theme words without an idf: {sorted(missing)[:5]}")
        self.themes = themes
        self.weights = weights
        self.idf = idf
        self.stop_words = stop_words
        self.min_weight = min_weight
        self.answers = answers
        self._terms = list(idf)
        self._index = {term: i for i, term in enumerate(self._terms)}
        self._counter: Any = None
        self._components = np.zeros((len(weights), len(self._terms)))
        for j, row in enumerate(weights):
            for term, weight in row.items():
                self._components[j, self._index[term]] = weight

    def mix(self, texts: Sequence[str | None]) -> FloatArray:
        """Each text's non-negative share of each theme (texts × themes)."""
        shares = np.zeros((len(texts), len(self.themes)))
        if not self.themes or not texts:
            return shares
        x = self._vectors(texts)
        h = self._components
        return _nnls(np.asarray(x @ h.T), h @ h.T)

    def assign(self, texts: Sequence[str | None]) -> list[list[tuple[int, float]]]:
        """For each text, the themes it mentions as (index, share), largest share first."""
        shares = self.mix(texts)
        found: list[list[tuple[int, float]]] = []
        for row in shares:
            picked = [(int(j), float(row[j])) for j in np.flatnonzero(row >= self.min_weight)]
            found.append(sorted(picked, key=lambda pair: (-pair[1], pair[0])))
        return found

    def _vectors(self, texts: Sequence[str | None]) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        if self._counter is None:
            self._counter = CountVectorizer(
                vocabulary=self._index,
                stop_words=self.stop_words,
                token_pattern=TOKEN_PATTERN,
                ngram_range=NGRAMS,
                dtype=np.float64,
            )
        x = self._counter.transform([text or "" for text in texts]).tocsr()
        x.data = 1.0 + np.log(x.data)
        x = x.multiply(np.asarray([self.idf[t] for t in self._terms])).tocsr()
        return normalize(x, norm="l2", copy=False)

    def to_json(self) -> dict[str, Any]:
        """Plain data: the format, parameters, stop words, idf and each theme's weights."""
        return {
            "format": FORMAT,
            "token_pattern": TOKEN_PATTERN,
            "ngram_range": list(NGRAMS),
            "min_weight": self.min_weight,
            "answers": self.answers,
            "stop_words": self.stop_words,
            "idf": self.idf,
            "themes": [
                {
                    "index": theme.index,
                    "name": theme.name,
                    "mentions": theme.mentions,
                    "weights": [[term, w] for term, w in self.weights[theme.index].items()],
                }
                for theme in self.themes
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThemeModel:
        """The model `to_json` wrote."""
        if data.get("format") != FORMAT:
            raise ValueError(f"theme model format {data.get('format')!r} is not {FORMAT!r}")
        if data["token_pattern"] != TOKEN_PATTERN or tuple(data["ngram_range"]) != NGRAMS:
            raise ValueError("theme model was built with another tokenizer; discover it again")
        themes, weights = [], []
        for i, stored in enumerate(data["themes"]):
            row = {str(term): float(w) for term, w in stored["weights"]}
            words = list(row.items())[:TOP_WORDS]
            themes.append(Theme(i, str(stored["name"]), words, int(stored["mentions"])))
            weights.append(row)
        return cls(
            themes=themes,
            weights=weights,
            idf={str(term): float(v) for term, v in data["idf"].items()},
            stop_words=[str(w) for w in data["stop_words"]],
            min_weight=float(data["min_weight"]),
            answers=int(data["answers"]),
        )


def _nnls(b: FloatArray, g: FloatArray, sweeps: int = 500, tol: float = 1e-9) -> FloatArray:
    """Non-negative w minimising |x − wH|² per row, from b = xHᵀ and g = HHᵀ.

    Coordinate descent (HALS) over the themes. Each row stops when none of its shares moved by
    more than `tol` in a sweep, and its sums are formed element by element in a fixed order
    (not by a matrix product, whose rounding depends on the batch), so a row's answer is the
    same to the last bit whatever else is in the batch.
    """
    w = np.zeros_like(b)
    active = np.flatnonzero(b.max(axis=1) > 0)
    themes = range(g.shape[0])
    for _ in range(sweeps):
        if active.size == 0:
            break
        bt, wt = b[active].T.copy(), w[active].T.copy()
        moved = np.zeros(active.size)
        for j in themes:
            fit = bt[j].copy()
            for i in themes:
                fit -= wt[i] * g[i, j]
            new = np.maximum(0.0, wt[j] + fit / g[j, j])
            moved = np.maximum(moved, np.abs(new - wt[j]))
            wt[j] = new
        w[active] = wt.T
        active = active[moved > tol]
    return w


def vectorizer(texts: Sequence[str | None]) -> Any:
    """The unfitted TF-IDF vectoriser `discover` uses for `texts` (its min_df, max_df)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    answers = sum(1 for text in texts if text and text.strip())
    min_df = max(2, math.ceil(MIN_DF_SHARE * answers))
    return TfidfVectorizer(
        stop_words=stop_words(),
        token_pattern=TOKEN_PATTERN,
        ngram_range=NGRAMS,
        min_df=min_df,
        max_df=max(min_df, int(MAX_DF * len(texts))),  # a count: never below min_df
        max_features=MAX_FEATURES,
        sublinear_tf=True,
        dtype=np.float32,
    )


def discover(
    texts: Sequence[str | None], n_themes: int | None = None, *, seed: int = 0
) -> ThemeModel:
    """Discover the themes of `texts`; see the module docstring for how."""
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    words = stop_words()
    empty = ThemeModel(themes=[], weights=[], idf={}, stop_words=words, answers=len(texts))
    answers = sum(1 for text in texts if text and text.strip())
    tfidf = vectorizer(texts)
    try:
        x = tfidf.fit_transform([text or "" for text in texts])
    except ValueError:  # scikit-learn: no word is left (empty texts, none shared by two)
        return empty
    wanted = n_themes if n_themes is not None else theme_count(answers)
    k = min(wanted, int((x.getnnz(axis=1) > 0).sum()), x.shape[1])
    if k < 1:
        return empty
    factoriser = NMF(
        n_components=k, init="nndsvda", solver="cd", max_iter=NMF_MAX_ITER, random_state=seed
    )
    with warnings.catch_warnings():
        # the factorisation after NMF_MAX_ITER sweeps is used as it is
        warnings.simplefilter("ignore", ConvergenceWarning)
        sizes = factoriser.fit_transform(x).sum(axis=0)
    terms = tfidf.get_feature_names_out()
    rows: list[dict[str, float]] = []
    kept: list[FloatArray] = []
    for j in np.argsort(-sizes, kind="stable"):
        component = factoriser.components_[j].astype(np.float64)
        top = [t for t in np.argsort(-component, kind="stable")[:MODEL_WORDS] if component[t] > 0]
        if not top:
            continue
        unit = np.zeros_like(component)
        unit[top] = component[top] / np.linalg.norm(component[top])
        if any(float(unit @ other) >= DUPLICATE for other in kept):
            continue  # more themes were asked for than the answers hold: one said twice
        kept.append(unit)
        rows.append({str(terms[t]): float(unit[t]) for t in top})
    idf = {term: float(tfidf.idf_[tfidf.vocabulary_[term]]) for row in rows for term in row}
    return _model(rows, idf, words, texts)


def _model(
    rows: list[dict[str, float]],
    idf: dict[str, float],
    words: list[str],
    texts: Sequence[str | None],
) -> ThemeModel:
    """The model of themes `rows` that the discovery answers mention, with their counts."""
    while True:
        themes = [
            Theme(i, name_of(list(row)), list(row.items())[:TOP_WORDS])
            for i, row in enumerate(rows)
        ]
        model = ThemeModel(
            themes=themes, weights=rows, idf=idf, stop_words=words, answers=len(texts)
        )
        mentions = (model.mix(texts) >= model.min_weight).sum(axis=0)
        if mentions.all():
            model.themes = [Theme(t.index, t.name, t.words, int(mentions[t.index])) for t in themes]
            return model
        # a theme no answer mentions is none of theirs; without it the others' shares change
        rows = [row for row, count in zip(rows, mentions, strict=True) if count]
        idf = {term: idf[term] for row in rows for term in row}
