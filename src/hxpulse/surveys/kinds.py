"""The kinds of survey: their scale, score bands, default question and follow-up questions.

Pure data and rules, shared by the service, the pages and the import. Scores are whole
numbers on the kind's scale; every band of a kind has its own follow-up ("why") question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["nps", "csat", "ces", "custom"]
KIND_NAMES: tuple[Kind, ...] = ("nps", "csat", "ces", "custom")


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    low: int
    high: int
    followup: str


@dataclass(frozen=True, slots=True)
class KindSpec:
    label: str
    low: int
    high: int
    question: str  # {brand} is replaced by the brand's name
    low_label: str
    high_label: str
    bands: tuple[Band, ...]


SPECS: dict[str, KindSpec] = {
    "nps": KindSpec(
        "NPS", 0, 10,
        "How likely are you to recommend {brand} to a friend or colleague?",
        "Not at all likely", "Extremely likely",
        (Band("detractor", 0, 6, "What could we do better?"),
         Band("passive", 7, 8, "What would make it a 10?"),
         Band("promoter", 9, 10, "What did we do well?")),
    ),
    "csat": KindSpec(
        "CSAT", 1, 5, "How satisfied are you with {brand}?", "Very unsatisfied", "Very satisfied",
        (Band("unsatisfied", 1, 2, "What went wrong?"),
         Band("neutral", 3, 3, "What would have made it better?"),
         Band("satisfied", 4, 5, "What did you like most?")),
    ),
    "ces": KindSpec(
        "CES", 1, 7, "{brand} made it easy for me to handle my issue.",
        "Strongly disagree", "Strongly agree",
        (Band("difficult", 1, 3, "What made it hard?"),
         Band("neutral", 4, 4, "What would have made it easier?"),
         Band("easy", 5, 7, "What made it easy?")),
    ),
    "custom": KindSpec(
        "Custom", 1, 5, "How would you rate {brand}?", "Poor", "Excellent",
        (Band("low", 1, 2, "What could we do better?"),
         Band("middle", 3, 3, "What would make it better?"),
         Band("high", 4, 5, "What did we do well?")),
    ),
}  # fmt: skip


def spec(kind: str) -> KindSpec:
    return SPECS[kind]


def band_of(kind: str, score: int) -> str:
    """The name of the band `score` falls in (scores are checked against the scale first)."""
    for band in SPECS[kind].bands:
        if band.low <= score <= band.high:
            return band.name
    raise ValueError(f"score {score} is outside the {SPECS[kind].label} scale")


def default_followups(kind: str) -> dict[str, str]:
    return {band.name: band.followup for band in SPECS[kind].bands}


def default_question(kind: str, brand: str) -> str:
    return SPECS[kind].question.format(brand=brand)
