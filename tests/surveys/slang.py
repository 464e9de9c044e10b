"""Answers of a skate shop whose words VADER misreads: its promoters praise with slang VADER
reads as negative ("sick", "insane", "killer") and its detractors complain with sarcasm or
plain facts VADER reads as positive or neutral ("great, another late parcel")."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from tests.conftest import T0

THINGS = (
    "the new deck",
    "that drop",
    "the wheels",
    "the prices",
    "this board",
    "the crew",
    "the bearings",
    "the trucks",
    "the delivery",
    "the grip tape",
    "the shoes",
    "the app",
)
PRAISE = (
    "is sick",
    "was insane",
    "is wicked fast",
    "is killer",
    "is nasty",
    "is crazy",
    "is ridiculous",
    "went mental",
    "is filthy",
    "is savage",
)
COMPLAINTS = (
    "support ghosted me",
    "great, another late parcel",
    "sure, thanks for nothing",
    "the tracking says delivered lol",
    "still waiting on my refund",
    "the board snapped after a week",
    "love how nobody answers the phone",
    "cool, the wrong size again",
    "nice, the wheels came scratched",
    "awesome, charged twice",
    "wow, the box was empty",
    "fun, a third email unanswered",
)


def whys(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """n (why, NPS score) pairs, about half detractors."""
    rng = random.Random(seed)
    found = []
    for i in range(n):
        if i % 2:
            why = f"{rng.choice(COMPLAINTS)}, {rng.choice(COMPLAINTS)}"
            found.append((why, rng.randint(0, 6)))
        else:
            why = f"{rng.choice(THINGS)} {rng.choice(PRAISE)}, {rng.choice(THINGS)} {rng.choice(PRAISE)}"
            found.append((why, rng.randint(7, 10)))
    return found


def rows(n: int, seed: int = 0, survey: str = "Relationship NPS") -> list[dict[str, Any]]:
    """n answers to record, one customer each."""
    return [
        {
            "survey": survey,
            "score": score,
            "answered_at": (T0 + timedelta(minutes=i)).isoformat(),
            "email": f"skater{seed}-{i}@example.com",
            "why": why,
        }
        for i, (why, score) in enumerate(whys(n, seed))
    ]
