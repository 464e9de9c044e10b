"""Read the CDNOW purchase history (shipped in the `lifetimes` package) and simulate the rest.

CDNOW_master.txt holds 69,659 purchases of 23,570 customers who first bought CDs from CDNOW
in the first quarter of 1997, followed to the end of June 1998. Dates are shifted by a whole
number of days so that the history ends yesterday (the original date stays in the event's
properties). On top, a fixed-seed simulation adds the touchpoints a CX team would also see:
page views, app sessions, marketing emails, support contacts and social mentions, and the
album each purchase names (CDNOW's file names none; `album`, without a draw).
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hxpulse.events.schemas import EventIn

SEED = 20260101
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Silva",
    "Smith",
    "Nguyen",
    "Garcia",
    "Müller",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Okafor",
    "Tanaka",
    "Larsen",
    "Dubois",
    "Patel",
    "Cohen",
    "Murphy",
    "Ivanova",
)


@dataclass(frozen=True, slots=True)
class Purchase:
    line: int
    customer: str
    day: date
    quantity: int
    amount: float


def cdnow_path(name: str = "CDNOW_master.txt") -> Path:
    """Return the path of a CDNOW file (the master file or `CDNOW_sample.txt`) in `lifetimes`."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the lifetimes package is not installed: pip install lifetimes")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing from the lifetimes package")
    return path


def read_purchases(path: Path | None = None) -> list[Purchase]:
    """Return every purchase line of the CDNOW master file (or of the sample, by its path).

    The sample's lines carry the sample's own customer number after the master id; it is
    dropped, so a customer is the master id in both.
    """
    purchases = []
    with (path or cdnow_path()).open() as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if len(parts) == 5:
                del parts[1]
            if len(parts) != 4 or not parts[0].isdigit():
                continue
            cid, day, quantity, amount = parts
            purchases.append(
                Purchase(
                    number,
                    cid,
                    datetime.strptime(day, "%Y%m%d").date(),
                    int(quantity),
                    float(amount),
                )
            )
    return purchases


def demo_events(today: date, purchases: list[Purchase] | None = None) -> Iterator[EventIn]:
    """Yield the demo's events: each real purchase, then simulated touchpoints per customer."""
    bought = purchases or read_purchases()
    shift = (today - timedelta(days=1)) - max(p.day for p in bought)
    rng = random.Random(SEED)
    by_customer: dict[str, list[Purchase]] = {}
    for p in bought:
        by_customer.setdefault(p.customer, []).append(p)
    for customer, history in by_customer.items():
        yield from _customer_events(rng, customer, history, shift, today)
    for visitor in range(PROSPECTS):
        yield from _prospect_events(rng, visitor, today)


PROSPECTS = 3000  # simulated visitors who have not bought (yet): prospects, leads, qualified


def _prospect_events(rng: random.Random, visitor: int, today: date) -> Iterator[EventIn]:
    """An anonymous visitor; some sign up (a lead), some of those fill a cart (qualified)."""
    ids = [("anonymous_id", f"visitor-{visitor:05d}")]
    start = today - timedelta(days=rng.randrange(1, 365))
    last = start
    for n in range(rng.randrange(1, 6)):
        last = min(start + timedelta(days=rng.randrange(0, 30)), today - timedelta(days=1))
        yield _touch(rng, f"v{visitor}", n, "page_view", rng.choice(["web", "app"]),
                     "marketing", last, ids)  # fmt: skip
    if rng.random() < 0.4:
        first, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{family}.v{visitor}@example.com".lower().replace("ü", "u")
        yield EventIn(
            message_id=f"demo-v{visitor}-signup", kind="identify", type="identify",
            occurred_at=_at(last, rng), identities=[*ids, ("email", email)], channel="web",
            source="demo", traits={"name": f"{first} {family}", "email": email},
        )  # fmt: skip
        if rng.random() < 0.3:
            yield _touch(rng, f"v{visitor}", 0, "add_to_cart", "web", "sales", last, ids)


def _at(day: date, rng: random.Random) -> datetime:
    seconds = rng.randrange(8 * 3600, 22 * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)


def _customer_events(
    rng: random.Random, customer: str, history: list[Purchase], shift: timedelta, today: date
) -> Iterator[EventIn]:
    user_id = f"cdnow-{customer}"
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{customer}@example.com".lower().replace("ü", "u")
    ids = [("user_id", user_id)]
    start = history[0].day + shift
    yield EventIn(
        message_id=f"demo-{customer}-signup",
        kind="identify",
        type="identify",
        occurred_at=_at(start, rng),
        identities=[*ids, ("email", email)],
        channel="web",
        source="demo",
        traits={
            "name": f"{first} {last}",
            "email": email,
            "consent": {"email": rng.random() > 0.15},
        },
    )
    for p in history:
        day = p.day + shift
        yield EventIn(
            message_id=f"demo-purchase-{p.line}",
            kind="track",
            type="purchase",
            occurred_at=_at(day, rng),
            identities=ids,
            channel="web",
            source="demo",
            department="sales",
            value=p.amount,
            currency="USD",
            properties={
                "quantity": p.quantity,
                "original_date": p.day.isoformat(),
                "item": album(customer, p.line),
            },
        )
        if rng.random() < 0.7:
            yield _touch(rng, customer, p.line, "page_view", "web", "marketing", day, ids)
        yield from _after_purchase(rng, customer, p.line, day, today, ids, repeat=len(history) > 1)
    end = min(history[-1].day + shift + timedelta(days=rng.randrange(0, 120)), today)
    for n in range(rng.randrange(0, 4)):
        day = start + timedelta(days=rng.randrange(0, max((end - start).days, 1)))
        kind = rng.choices(
            [
                ("email_sent", "email", "marketing"),
                ("email_opened", "email", "marketing"),
                ("support_contact", rng.choice(["phone", "chat", "email"]), "support"),
                ("social_mention", "social", "marketing"),
                ("app_open", "app", "sales"),
                ("store_visit", "store", "sales"),
            ],
            weights=[30, 15, 12, 6, 20, 4],
        )[0]
        yield _touch(rng, customer, n, kind[0], kind[1], kind[2], day, ids)


def _after_purchase(
    rng: random.Random,
    customer: str,
    line: int,
    day: date,
    today: date,
    ids: list[tuple[str, str]],
    *,
    repeat: bool,
) -> Iterator[EventIn]:
    """What may follow a purchase: a complaint (mostly resolved), a review, a share, a referral."""

    def later(days: int) -> date | None:
        moment = day + timedelta(days=rng.randrange(1, days + 1))
        return moment if moment < today else None

    if rng.random() < 0.04 and (when := later(20)):
        complaint = _touch(rng, customer, line, "complaint", rng.choice(["phone", "chat", "email"]),
                           "support", when, ids)  # fmt: skip
        yield complaint
        if rng.random() < 0.75 and (fixed := later(35)) and fixed > when:
            resolution = _touch(rng, customer, line, "resolution", complaint.channel, "support",
                                fixed, ids)  # fmt: skip
            resolution.properties["resolves"] = complaint.message_id
            yield resolution
    share = 0.10 if repeat else 0.03
    for kind, chance, channel in (("review", share, "web"), ("content_share", share / 2, "social"),
                                  ("referral", share / 3, "web")):  # fmt: skip
        if rng.random() < chance and (when := later(14)):
            touch = _touch(rng, customer, line, kind, channel, "marketing", when, ids)
            if kind != "referral":  # where it was posted (no draw: the other figures stay put)
                platform = PLATFORMS[kind][line % len(PLATFORMS[kind])]
                touch.properties.update(
                    platform=platform, url=f"https://{platform}.example/{customer}-{line}"
                )
            yield touch


GENRES = ("rock", "pop", "jazz", "classical", "country", "hip-hop")
ALBUMS = 8  # per genre


def favourite(customer: str) -> str:
    """The genre a CDNOW customer mostly buys (CDNOW names no products: simulated, no draw)."""
    return GENRES[(int(customer) * 7 + 3) % len(GENRES)]


def album(customer: str, line: int) -> str:
    """The album a purchase line names: four in five in the customer's favourite genre."""
    genre = favourite(customer) if line % 5 else GENRES[(line // 5) % len(GENRES)]
    return f"cd-{genre}-{(line * 3 + int(customer)) % ALBUMS:02d}"


PLATFORMS = {
    "review": ("trustpilot", "google", "shop"),
    "content_share": ("facebook", "instagram", "x", "whatsapp"),
}


def _touch(
    rng: random.Random,
    customer: str,
    n: int,
    event: str,
    channel: str,
    department: str,
    day: date,
    ids: list[tuple[str, str]],
) -> EventIn:
    return EventIn(
        message_id=f"demo-{customer}-{event}-{n}",
        kind="track",
        type=event,
        occurred_at=_at(day, rng),
        identities=ids,
        channel=channel,
        source="demo",
        department=department,
        properties={"simulated": True},
    )
