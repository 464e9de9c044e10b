"""Text analysis of survey answers: sentiment and themes, measured on real labelled reviews.

Run: `.venv/bin/python bench/themes.py [--quick]`. The data are the UCI "Sentiment Labelled
Sentences" (1,000 sentences each from Amazon phone, IMDb movie and Yelp restaurant reviews,
labelled positive or negative) and the AFINN-165 lexicon, from the npm package `sentiment`
5.0.2, which `make bench` installs (see bench/reviews.py).

1. Sentiment of the 3,000 sentences: accuracy (VADER's compound >= 0.05 read as positive) and
   ROC AUC per source and overall, for VADER (`analytics.sentiment`) and for the baseline
   computed in the same run, the AFINN-165 word sum (positive when > 0); time per sentence.
2. Themes discovered in the 3,000 mixed sentences (`analytics.themes.discover`, number of
   themes chosen from the data): share of sentences given a theme, and purity and NMI of each
   sentence's largest theme against its source, next to the same figures against the sources
   shuffled (chance).
3. Discovery over 100,000 answers (20,000 with --quick) built from those sentences: each
   answer joins 1 to 3 sentences drawn from one source (random.Random(20261123)), so the words
   are real reviewers' but repeat more than in 100,000 distinct answers. Baseline: only the
   TF-IDF vectorisation with the same settings, in the same run. Target: discovery in under
   60 s. Exit status 1 when it is not.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sklearn.metrics import roc_auc_score

import reviews
from hxpulse.analytics import sentiment, themes

TARGET_SECONDS = 60.0
SEED = 20261123
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    answer = work()
    return time.perf_counter() - start, answer


def rates(labels: Sequence[bool], scores: Sequence[float], cut: float) -> tuple[float, float]:
    """(accuracy with `score >= cut` read as positive, ROC AUC)."""
    right = sum((score >= cut) == label for score, label in zip(scores, labels, strict=True))
    return right / len(labels), float(roc_auc_score(labels, scores))


def bench_sentiment(sentences: list[reviews.Sentence]) -> None:
    texts = [s.text for s in sentences]
    lexicon = reviews.afinn()
    vader_s, vader = timed(lambda: sentiment.score_many(texts))
    afinn_s, afinn = timed(lambda: [float(reviews.afinn_score(t, lexicon)) for t in texts])
    print(f"sentiment: VADER vs the AFINN-165 word sum, {len(texts):,} labelled sentences")
    print(f"{'source':<10}{'VADER acc':>10}{'AUC':>7}{'AFINN acc':>11}{'AUC':>7}{'AUC ratio':>11}")
    for source in (*reviews.SOURCES, "all"):
        mine = [i for i, s in enumerate(sentences) if source in ("all", s.source)]
        labels = [sentences[i].positive for i in mine]
        v_acc, v_auc = rates(labels, [vader[i] for i in mine], sentiment.POSITIVE)
        a_acc, a_auc = rates(labels, [afinn[i] for i in mine], 0.5)  # word sum > 0
        print(
            f"{source:<10}{v_acc:>10.3f}{v_auc:>7.3f}{a_acc:>11.3f}{a_auc:>7.3f}"
            f"{v_auc / a_auc:>10.3f}x"
        )
    print(
        f"time per sentence: VADER {vader_s / len(texts) * 1e6:.0f} us,"
        f" AFINN word sum {afinn_s / len(texts) * 1e6:.1f} us\n"
    )


def bench_separation(sentences: list[reviews.Sentence]) -> None:
    texts = [s.text for s in sentences]
    truth = [s.source for s in sentences]
    seconds, model = timed(lambda: themes.discover(texts))
    found = reviews.separation(model, texts, truth)
    shuffled = truth[:]
    random.Random(SEED).shuffle(shuffled)
    chance = reviews.separation(model, texts, shuffled)
    print(
        f"themes of the {len(texts):,} mixed sentences: {len(model.themes)} in {seconds:.2f} s;"
        " largest theme of each sentence against its source (amazon/imdb/yelp)"
    )
    print(f"{'':<10}{'with theme':>11}{'purity':>8}{'NMI':>7}{'NMI all':>9}")
    for what, s in (("sources", found), ("chance", chance)):
        print(f"{what:<10}{s.coverage:>11.3f}{s.purity:>8.3f}{s.nmi:>7.3f}{s.nmi_all:>9.3f}")
    for theme in model.themes:
        print(f"  {theme.index:>2} {theme.mentions:>5,}  {theme.name}")
    print()


def answers(sentences: list[reviews.Sentence], n: int) -> tuple[list[str], list[str]]:
    """n answers of 1..3 sentences of one source each, and their sources."""
    rng = random.Random(SEED)
    by_source = {src: [s.text for s in sentences if s.source == src] for src in reviews.SOURCES}
    texts, truth = [], []
    for _ in range(n):
        source = rng.choice(reviews.SOURCES)
        texts.append(" ".join(rng.sample(by_source[source], rng.randint(1, 3))))
        truth.append(source)
    return texts, truth


def bench_discovery(sentences: list[reviews.Sentence], n: int) -> bool:
    texts, truth = answers(sentences, n)
    base_s, matrix = timed(lambda: themes.vectorizer(texts).fit_transform(texts))
    seconds, model = timed(lambda: themes.discover(texts))
    assign_s, _ = timed(lambda: model.assign(texts[:10_000]))
    found = reviews.separation(model, texts, truth)
    ok = seconds < TARGET_SECONDS
    print(f"discovery over {n:,} answers (1-3 sentences of one source each, seed {SEED})")
    print(f"  baseline: TF-IDF vectorisation only {base_s:>7.1f} s  ({matrix.shape[1]:,} words)")
    print(
        f"  discover (TF-IDF + NMF + assign)   {seconds:>7.1f} s  x{seconds / base_s:.1f} the"
        f" baseline  {'PASS' if ok else 'FAIL'} (< {TARGET_SECONDS:g} s)"
    )
    print(
        f"  assign 10,000 answers              {assign_s:>7.2f} s"
        f"  ({assign_s / 10_000 * 1e6:.0f} us an answer)"
    )
    print(
        f"  {len(model.themes)} themes; against the sources: {found.coverage:.3f} with a theme,"
        f" purity {found.purity:.3f}, NMI {found.nmi:.3f}, NMI all {found.nmi_all:.3f}"
    )
    for theme in model.themes:
        print(f"    {theme.index:>2} {theme.mentions:>7,}  {theme.name}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 answers, for a smoke run")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    try:
        sentences = reviews.sentences()
    except reviews.ReviewsMissing as missing:
        print(missing)
        return 1
    print(
        f"HX Pulse text analysis: {len(sentences):,} labelled review sentences;"
        f" themes over {n:,} answers, target < {TARGET_SECONDS:g} s\n"
    )
    bench_sentiment(sentences)
    bench_separation(sentences)
    return 0 if bench_discovery(sentences, n) else 1


if __name__ == "__main__":
    sys.exit(main())
