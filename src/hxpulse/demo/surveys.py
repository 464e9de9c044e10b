"""Simulated survey answers on top of the CDNOW demo, so that the survey pages show real themes.

Four surveys are created through the product's own service, with CDNOW as the brand: a
quarterly relationship NPS, an NPS after a purchase (about the order, or about its delivery),
a support CSAT after complaints and support contacts, and a returns CES after return-related
problems. Who is asked, who answers, the score and the *why* all follow from what the demo's
events say happened to that customer before the answer: repeat buyers and customers who
reviewed, shared or referred lean to promoters; a complaint that was never resolved makes a
detractor; a resolved one leaves a mixed feeling; lapsed one-time buyers are lukewarm.

Asking goes through `service.invite` at the simulated moment, in time order, so the fatigue
guard holds back what it would have held back; about a third of the invited answer, within
days. Some answers come without an invitation (an in-app prompt, the order page, a phone
survey after a call). The *why* texts are written from templates per theme and tone with
synonyms, openers, closers, a second theme now and then, rare typos, very short answers and
empty ones. Everything is drawn from one seeded generator, so the same day gives the same data.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from itertools import accumulate
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, func, select, update

from hxpulse.config import Live, SurveySettings
from hxpulse.customers.models import Identity
from hxpulse.db.engine import run_write
from hxpulse.errors import NotFound
from hxpulse.events.schemas import EventIn
from hxpulse.surveys import kinds, service
from hxpulse.surveys import themes as survey_themes

SEED = 20260102
BRAND = "CDNOW"
SOURCE = "demo"
MESSAGE_PREFIX = "demo-answer-"
RECORD_BATCH = 2000
SEND_AT = clock(10, 0)  # transactional invitations go out at 10:00 UTC
SEND_DAYS = (0, 3)  # on Mondays and Thursdays, for what happened since the last send

# ---------------------------------------------------------------- the surveys


@dataclass(frozen=True, slots=True)
class Plan:
    key: str
    name: str
    kind: str
    department: str | None = None
    touchpoint: str | None = None
    question: str | None = None  # {brand} is the brand's name; default: the kind's question


# departments are spelled as the demo's events spell them (lower case), so that one filter
# finds both the touchpoints and the answers of a department
RELATIONSHIP = Plan("relationship", "Relationship NPS", "nps")
AFTER_PURCHASE = Plan("purchase", "After purchase", "nps", "sales", "purchase")
SUPPORT = Plan("support", "Support CSAT", "csat", "support", "support contact",
               "How satisfied are you with the help you got from {brand}?")  # fmt: skip
RETURNS = Plan("returns", "Returns CES", "ces", "fulfilment", "return")
PLANS = (RELATIONSHIP, AFTER_PURCHASE, SUPPORT, RETURNS)

# relationship NPS: a wave every quarter to a random share of the customers who bought
WAVE_EVERY_DAYS = 91
FIRST_WAVE_DAYS = 45
WAVE_SEND_DAYS = 3  # a wave's invitations go out over three days
WAVE_SHARE = 0.13
# other ways of asking, per event
IN_APP_SHARE = 0.025  # customers who answer the relationship question in the app or on the site
PURCHASE_INVITE = 0.09
ORDER_PAGE_ANSWER = 0.02  # answered on the order confirmation page
COMPLAINT_INVITE = 0.8
CALL_SURVEY = 0.3  # phone and chat contacts: a survey at the end of the call
EMAIL_CONTACT_INVITE = 0.6
RESPONSE_RATE = 0.32


def branded(settings: SurveySettings) -> SurveySettings:
    """The demo's survey settings: CDNOW is the brand unless one is configured, so that the
    questions and the pages around them (the survey page's header, the emails) say the same."""
    if settings.brand != SurveySettings.model_fields["brand"].default:
        return settings
    return settings.model_copy(update={"brand": BRAND})


def _survey_data(plan: Plan, brand: str) -> dict[str, Any]:
    return {
        "name": plan.name,
        "kind": plan.kind,
        "question": plan.question.format(brand=brand)
        if plan.question
        else kinds.default_question(plan.kind, brand),
        "department": plan.department,
        "touchpoint": plan.touchpoint,
    }


# ---------------------------------------------------------------- what happened to whom


@dataclass(slots=True)
class Complaint:
    at: datetime
    channel: str
    resolved_at: datetime | None = None


@dataclass(slots=True)
class History:
    """One CDNOW customer's touchpoints, as the demo's events tell them."""

    user_id: str
    purchases: list[datetime] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    contacts: list[tuple[datetime, str]] = field(default_factory=list)
    advocacy: list[datetime] = field(default_factory=list)
    app: bool = False
    emails: int = 0


class Timeline:
    """Collects, while the demo's events are loaded, what the survey simulation needs."""

    def __init__(self) -> None:
        self.customers: dict[str, History] = {}
        self._complaints: dict[str, Complaint] = {}

    def observe(self, events: Iterable[EventIn]) -> None:
        for event in events:
            kind, value = event.identities[0]
            if kind != "user_id":
                continue
            who = self.customers.get(value)
            if who is None:
                who = self.customers[value] = History(value)
            at = event.occurred_at
            if event.type == "purchase":
                who.purchases.append(at)
            elif event.type == "complaint":
                complaint = Complaint(at, event.channel)
                who.complaints.append(complaint)
                self._complaints[event.message_id] = complaint
            elif event.type == "resolution":
                found = self._complaints.get(str(event.properties.get("resolves")))
                if found is not None:
                    found.resolved_at = at
            elif event.type == "support_contact":
                who.contacts.append((at, event.channel))
            elif event.type in ("review", "content_share", "referral"):
                who.advocacy.append(at)
            elif event.type == "app_open":
                who.app = True
            elif event.type in ("email_sent", "email_opened"):
                who.emails += 1


# ---------------------------------------------------------------- why texts

# department that owns each theme; the relationship survey files an answer under the owner
# of the first theme it mentions
OWNER = {
    "delivery": "fulfilment",
    "packaging": "fulfilment",
    "accuracy": "fulfilment",
    "price": "sales",
    "selection": "sales",
    "website": "sales",
    "service": "support",
    "returns": "support",
    "discovery": "marketing",
    "emails": "marketing",
    "billing": "billing",
}

# per theme: praise, blame and a suggestion, as clauses; {a|b|c} picks one. Each clause names
# its theme with one of a few words (delivery, shipping; case, packaging; refund, return...),
# so that the themes found in the answers are these; openers and closers are mostly words the
# theme finder ignores, as customers' "honestly" and "thanks" say nothing of the subject.
# fmt: off
TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "delivery": {
        "pos": (
            "{delivery|shipping} was {fast|quick|speedy|really fast|super quick}",
            "{my order|the parcel|the package|my CDs} arrived {in two days|in three days|the next "
            "day|sooner than expected|earlier than promised}",
            "{fast|quick|prompt|reliable} {delivery|shipping}",
            "{delivery|shipping} {is|was} {always |}{on time|reliable|quicker than other shops}",
            "{the|my} {parcel|package|order} {came|arrived} {on time|on the promised day|within "
            "days|in no time}",
            "{I got|I received} {my CDs|the albums|my order} {within days|two days after "
            "ordering|quickly}",
        ),
        "neg": (
            "{delivery|shipping} {took forever|was slow|was very slow|took far too long}",
            "{my order|the parcel|the package} arrived {two|three|several} weeks late",
            "{my order|the parcel|the package} {never arrived|got lost|went missing}",
            "{I waited|I had to wait} {two weeks|three weeks|nearly a month} for {delivery|my "
            "order|the parcel}",
            "{delivery|shipping} {dates|times} {kept slipping|were never met|are unreliable}",
            "{the|my} {order|parcel} {was|arrived} late {again|twice|with no explanation}",
            "the tracking {never updated|said delivered but no parcel came|was useless}",
        ),
        "tip": (
            "{delivery|shipping} could be {faster|quicker}",
            "{faster|quicker} {delivery|shipping} {please|would help}",
            "{delivery|shipping} {is|was} {a bit slow|slower than expected}",
            "a {firmer|clearer} delivery date {would help|please}",
        ),
    },
    "packaging": {
        "pos": (
            "{the CDs were|my order was|everything was} {well packed|carefully packed|packed "
            "with care}",
            "{careful|solid|sturdy|good} packaging",
            "{the|every} {case|jewel case} arrived {intact|undamaged|without a crack|in perfect "
            "condition}",
            "{no|not one} {cracked|broken|damaged} case {so far|in years}",
            "{packaging|the packaging} {keeps|protects} the {cases|CDs|discs} {safe|intact}",
        ),
        "neg": (
            "{the|one} {case|jewel case} {arrived|came} {cracked|smashed|broken}",
            "{the|my} {CD|disc} arrived {scratched|damaged|broken}",
            "{the packaging|the box|the envelope} was {flimsy|too thin|torn|crushed}",
            "{the CDs|the cases} {were|came} {loose|rattling around} in {the|a big} box{ with no "
            "padding|}",
            "{damaged|cracked|broken} cases {again|every time|twice now}",
        ),
        "tip": (
            "{packaging|the packaging} could be {sturdier|better|more careful}",
            "{one|a} case {was|arrived} {slightly|a little} cracked",
            "{please pack|pack} the {CDs|cases} {better|more carefully}",
        ),
    },
    "accuracy": {
        "pos": (
            "{I got|I received} exactly {what I ordered|the edition I ordered|the right albums}"
            "{, nothing missing|}",
            "{my orders are|the order was} {always |}{correct|complete}{, nothing missing|, "
            "nothing wrong|}",
            "never had a {wrong|missing} {item|CD|album}",
        ),
        "neg": (
            "{I received|I got|you shipped} the wrong {album|CD|edition}",
            "{one CD was|two albums were|an item was} missing from {my|the} order",
            "I ordered the {remastered|deluxe|import} edition and {got|received} the wrong one",
            "{my|the} order was {incomplete|mixed up|wrong}{, one CD missing|}",
            "{wrong|missing} {items|CDs} {again|twice}",
        ),
        "tip": (
            "{one item|one CD} was {missing|the wrong edition}",
            "{please |}check orders {before sending|more carefully}{, one CD was missing|, I got "
            "a wrong item|}",
        ),
    },
    "price": {
        "pos": (
            "{great|good|fair|low} prices",
            "{good|great} value for money",
            "{cheaper|better priced|less expensive} than {the record store|the mall|other "
            "shops|anywhere else}",
            "{prices are|the price is} {fair|reasonable|hard to beat}",
            "{great|good|regular} {discounts|deals|sales}{ on new releases| on imports|}",
            "{you get|I get} {a lot|plenty} for the money",
        ),
        "neg": (
            "{prices are|the prices are|everything is} {too high|too expensive|higher than in "
            "the shops}",
            "{shipping costs make|postage makes} everything {too expensive|expensive}",
            "{the same album|the CD} was cheaper {at the record store|at the mall|elsewhere}",
            "{not worth the money|poor value for money|overpriced}",
            "the discount {code |}{didn't work|was not applied}",
            "prices {went up|keep going up|have gone up} {again|a lot}",
        ),
        "tip": (
            "prices could be {lower|a bit lower|more competitive}",
            "{more|better} {discounts|deals} for {regular|loyal} customers",
            "{cheaper|lower} {shipping costs|postage|prices} {please|would help}",
        ),
    },
    "selection": {
        "pos": (
            "{huge|great|amazing|wide} selection{ of CDs| of music|}",
            "{I find|I can find|I found} {rare|hard to find|obscure} albums in {the|your} "
            "{selection|catalogue}",
            "{everything|almost everything} I want is in stock",
            "the {selection|catalogue} {is deep|is huge|goes far beyond the charts}",
            "{great|wide} selection of {jazz|classical|indie|world music|imports}",
        ),
        "neg": (
            "{the album|the title|what I wanted} {was|is} out of stock{ again| for weeks|}",
            "the {selection|catalogue} {is|has become} {limited|thin|poor}",
            "{I couldn't find|no sign of} the album I wanted in the {selection|catalogue}",
            "{albums|titles} {shown as|listed as} in stock {were not|turned out to be "
            "backordered}",
            "{the selection|the catalogue} has {too few|hardly any} {imports|jazz albums|"
            "classical albums}",
        ),
        "tip": (
            "{a wider|a bigger} selection of {imports|indie|classical|jazz} please",
            "the {selection|catalogue} could be {bigger|wider}",
            "{some|a few} albums {were|are} out of stock",
        ),
    },
    "service": {
        "pos": (
            "{customer service|the support team|the staff|support} {was|were} {helpful|friendly|"
            "patient|very helpful}",
            "{the agent was|the person on the phone was|the lady on the phone was|the guys on the "
            "chat were} {helpful|friendly|kind} and {solved|sorted} {my problem|the issue}",
            "{support|customer service} {answered|replied} {within an hour|the same day|quickly}",
            "{friendly|helpful|knowledgeable} {staff|support|customer service}",
            "{customer service|support} {solved|sorted out} {my problem|the issue} {right away|"
            "in minutes}",
        ),
        "neg": (
            "{customer service|support|the support team} {never replied|didn't reply|took a week "
            "to reply}",
            "{the agent|the person on the phone|the staff} {was|were} {rude|unhelpful|dismissive}",
            "{I called|I emailed|I contacted support} {three|four|several} times {and nobody "
            "helped|with no answer}",
            "{I was|I was kept} on hold for {forty minutes|over an hour|ages}",
            "{my complaint|my problem|the issue} {was never|is still not|has not been} "
            "{resolved|sorted}",
            "{unhelpful|rude|useless} {customer service|support|staff}",
        ),
        "tip": (
            "{support|customer service} could {reply|respond} faster",
            "{the staff were|support was} {friendly|polite} but {slow|it took days}",
            "{longer|better} {phone support hours|support hours} {please|would help}",
        ),
    },
    "website": {
        "pos": (
            "the website is {easy to use|fast|clear|easy to navigate}",
            "{checkout|paying} on the website {is|was} {quick|easy|simple}",
            "the website search {works well|finds everything|is fast}",
            "{easy|simple} to {order|find things} on the {website|site}",
            "{I like|I love} the {wish list|order history|album pages} on the website",
        ),
        "neg": (
            "the {website|site} {is|was} {slow|confusing|clunky|hard to use}",
            "{checkout|the checkout} on the website {crashed|failed|kept timing out|froze}",
            "the website search {never finds|doesn't find|can't find} {the right album|anything|"
            "what I type}",
            "{I couldn't log in to the website|the website login kept failing|the password "
            "reset never came}",
            "{my cart|the basket} on the website {emptied itself|lost my items}",
            "the website {kept crashing|was down|timed out}",
        ),
        "tip": (
            "the website could be {faster|easier to navigate|less cluttered}",
            "the {website|site} search could be {smarter|better}",
            "checkout on the website {has|takes} too many steps",
        ),
    },
    "returns": {
        "pos": (
            "{the|my} return was {easy|painless|no hassle|quick}",
            "{the|my} refund {came|arrived|was processed} {quickly|within days|in a few days}",
            "{easy|hassle free|simple} returns{ with a prepaid label|}",
            "{the|my} return of {a CD|an album|a faulty disc} was easy and the refund {was quick|"
            "came fast}",
            "{a|the} replacement for my return came {straight away|for free|without questions}",
        ),
        "neg": (
            "{the|my} refund {took|has taken} {weeks|over a month|forever}",
            "{the|my} return was {a nightmare|too complicated|a hassle}",
            "{still waiting|I'm still waiting} for {my refund|the refund|a refund}",
            "{they|you} {refused|would not accept} {my return|the return}",
            "{the|my} return cost me {postage|money|more than the CD}",
            "no refund {yet|after a month|for my return}",
        ),
        "tip": (
            "{returns|the return process} could be {simpler|quicker|easier}",
            "a {prepaid|free} return label {would help|please}",
            "{the|my} refund took a {while|little long}",
        ),
    },
    "discovery": {
        "pos": (
            "the {recommendations|suggestions} are {great|really good|so accurate|excellent}",
            "{I discovered|I found} {so many|lots of|a few} new {artists|bands} {thanks to|"
            "through} {the|your} {recommendations|suggestions}",
            "{great|good} {recommendations|suggestions}{ for new music| based on what I buy|}",
            "{sound clips|the samples|album reviews} help me discover new music",
            "{I love|I like} discovering new {artists|music} here",
        ),
        "neg": (
            "the {recommendations|suggestions} are {useless|way off|always the same}",
            "{it keeps|you keep} recommending {albums I already own|music I'd never listen to}",
            "{no|hardly any} {sound clips|samples} to discover new music",
        ),
        "tip": (
            "{recommendations|suggestions} could be more {personal|accurate}",
            "{more|longer} {sound clips|samples} to discover new {music|artists}",
        ),
    },
    "billing": {
        "pos": (
            "{billing|payment} {is|was} {clear|simple|straightforward}",
            "the {invoice|receipt} {was|is} {clear|correct}",
            "{they|you} corrected a {billing|payment} {mistake|error} {immediately|the same day}",
            "{paying|payment} by card is {easy|simple|safe}",
        ),
        "neg": (
            "{I was|I got} charged twice{ for one order| for the same album|}",
            "my {card|credit card} was charged {before shipping|for items never sent|the wrong "
            "amount}",
            "the {invoice|bill} {was|is} {wrong|confusing|incorrect}",
            "{an unexpected|an extra|a hidden} {charge|fee} on my {card|statement|invoice}",
            "{billing|payment} {errors|mistakes} {again|every month}",
        ),
        "tip": (
            "{billing|invoices} could be clearer",
            "{more|other} payment {options|methods} please",
        ),
    },
    "emails": {
        "pos": (
            "{the newsletter is|the emails are|the weekly email is} {useful|fun to read|full of "
            "tips}",
            "{new release|weekly} {emails|newsletters} {are handy|are useful|keep me up to date}",
        ),
        "neg": (
            "{far |way |}too many {emails|newsletters|marketing emails}",
            "{I unsubscribed|I asked to unsubscribe} and {still get|keep getting} {emails|"
            "newsletters}",
            "the {emails|newsletters} {are|feel like} spam",
            "{my inbox is|I get} {flooded|spammed} with {emails|newsletters}",
        ),
        "tip": (
            "{fewer|less frequent} {emails|newsletters} please",
            "{emails|newsletters} could be more {relevant|personal}",
        ),
    },
}
THEMES = tuple(TEXTS)

OPENERS = {
    "pos": ("", "", "", "", "", "", "", "", "Honestly, ", "Well, ", "Overall ", "Again, ",
            "As always, "),
    "neg": ("", "", "", "", "", "", "", "", "Honestly, ", "Frankly, ", "Again, ", "Sadly, ",
            "Unfortunately "),
    "tip": ("", "", "", "", "", "", "", "Overall, ", "Well, ", "Not bad, ", "Pretty good, ",
            "Mostly good, "),
}
CLOSERS = {
    "pos": ("", "", "", ".", ".", ".", "!", "!", ". Thanks!", ". Keep it up!", ". Excellent.",
            ". Highly recommend.", ". Love it!", " 10/10", " :)", ". Thank you."),
    "neg": ("", "", "", ".", ".", ".", "!", ". Terrible.", ". Never again.", ". Not happy.",
            ". Very bad.", ". Very disappointed.", ". Not impressed.", " :("),
    "tip": ("", "", "", ".", ".", ".", ". Thanks.", ". Otherwise good.", ". Not bad overall.",
            ". Could be better.", ". Otherwise all good."),
}
SHORT = {
    "pos": ("great", "Great!", "love it", "all good", "perfect", "excellent", "very happy",
            "no complaints", "Great!!", "good", "Awesome", "best"),
    "neg": ("bad", "poor", "terrible", "not happy", "disappointed", "awful", "Bad experience",
            "worst"),
    "tip": ("ok", "fine", "it's ok", "average", "decent", "nothing special", "meh", "OK",
            "good enough"),
}
# fmt: on
EMPTY_SHARE = 0.25
SHORT_SHARE = 0.07
SECOND_THEME = 0.2
TYPO_SHARE = 0.04
_CHOICE = re.compile(r"\{([^{}]*)\}")


class Writer:
    """Writes *why* answers: one or two themes, in the tone of the score."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def clause(self, theme: str, tone: str) -> str:
        template = self.rng.choice(TEXTS[theme][tone])
        return _CHOICE.sub(lambda m: self.rng.choice(m.group(1).split("|")), template)

    def why(
        self,
        tone: str,
        themes: list[str],
        *,
        recovered: str | None = None,
        empty: float = EMPTY_SHARE,
    ) -> str | None:
        """A why in `tone` (pos, neg or tip), about the first of `themes` and maybe a second;
        `recovered`: a problem with that theme that support put right (a mixed feeling)."""
        rng = self.rng
        if rng.random() < empty:
            return None
        if rng.random() < SHORT_SHARE:
            return rng.choice(SHORT[tone])
        first = themes[0]
        others = [t for t in themes[1:] if t != first]
        second = others[0] if others and rng.random() < SECOND_THEME else None
        if recovered is not None and rng.random() < 0.7:
            body = f"{self.clause(recovered, 'neg')} but {self.clause('service', 'pos')}"
            tone = "pos" if tone == "pos" else "tip"
        elif tone == "tip":
            shape = rng.random()
            if shape < 0.45:
                body = f"{self.clause(first, 'pos')}{rng.choice((', but ', ' but ', '. But '))}"
                body += self.clause(second or _other(rng, first), "tip")
            elif shape < 0.75:
                body = self.clause(first, "tip")
            else:
                body = f"{self.clause(first, 'pos')} but "
                body += self.clause(second or _other(rng, first), "neg")
        else:
            body = self.clause(first, tone)
            if second is not None:
                joint = rng.choice((" and ", ", and ", ". Also ", ". "))
                body = f"{body}{joint}{self.clause(second, tone)}"
        text = rng.choice(OPENERS[tone]) + body + rng.choice(CLOSERS[tone])
        text = _sentence_case(text)
        if rng.random() < TYPO_SHARE:
            text = _typo(rng, text)
        if rng.random() < 0.08:
            text = text.lower()
        return text


def _other(rng: random.Random, theme: str) -> str:
    return rng.choice([t for t in THEMES if t != theme])


def _sentence_case(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?:] )", text)
    return "".join(p[:1].upper() + p[1:] for p in parts)


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    how = rng.random()
    if how < 0.4:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swapped letters
    elif how < 0.7:
        w = w[:j] + w[j + 1 :]  # a letter dropped
    else:
        w = w[:j] + w[j] + w[j:]  # a letter doubled
    words[i] = w
    return " ".join(words)


# ---------------------------------------------------------------- scores


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(round(value))))


@dataclass(slots=True)
class Mood:
    """How a customer feels at a moment, from what happened before it."""

    value: float
    unresolved: Complaint | None
    recovered: Complaint | None


def mood_at(who: History, at: datetime, temper: float) -> Mood:
    bought = sum(1 for p in who.purchases if p < at)
    advocate = any(a < at for a in who.advocacy)
    unresolved = [c for c in who.complaints if c.at < at and (c.resolved_at is None or
                  c.resolved_at > at)]  # fmt: skip
    recovered = [c for c in who.complaints if c.resolved_at is not None and c.resolved_at < at]
    contacts = sum(1 for c, _ in who.contacts if timedelta(0) < at - c < timedelta(days=120))
    last = max((p for p in who.purchases if p < at), default=None)
    lapsed = last is not None and at - last > timedelta(days=240)
    value = (
        temper
        + 0.3 * min(bought - 1, 5)
        + (0.9 if advocate else 0.0)
        - (2.4 if unresolved else 0.0)
        - (0.6 if recovered else 0.0)
        - 0.25 * min(contacts, 2)
        - (0.35 if lapsed else 0.0)
    )
    return Mood(value, unresolved[-1] if unresolved else None,
                recovered[-1] if recovered else None)  # fmt: skip


def nps_score(rng: random.Random, mood: float) -> int:
    return _clamp(7.35 + 1.45 * mood + rng.gauss(0, 1.25), 0, 10)


def csat_score(rng: random.Random, mood: float) -> int:
    return _clamp(3.7 + 0.85 * mood + rng.gauss(0, 0.7), 1, 5)


def ces_score(rng: random.Random, mood: float) -> int:
    return _clamp(4.9 + 1.2 * mood + rng.gauss(0, 1.0), 1, 7)


def tone_of(kind: str, score: int) -> str:
    band = kinds.band_of(kind, score)
    if band in ("detractor", "unsatisfied", "difficult"):
        return "neg"
    if band in ("passive", "neutral"):
        return "tip"
    return "pos"


# ---------------------------------------------------------------- the simulation


@dataclass(slots=True)
class Ask:
    """A survey question put to one customer: by invitation (sent `at`) or directly."""

    plan: Plan
    user_id: str
    follows: datetime  # the moment of the event the question follows
    at: datetime  # the moment the customer is asked
    channel: str
    touchpoint: str | None = None
    department: str | None = None
    topic: str | None = None  # what the related event was about
    invited: bool = True
    complaint: Complaint | None = None  # the complaint the question follows


@dataclass(slots=True)
class Summary:
    surveys: int = 0
    invitations: int = 0
    answers: int = 0
    new_answers: int = 0
    with_why: int = 0
    nps: float | None = None
    themes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    held_back: int = 0  # invitations the fatigue guard held back


COMPLAINT_TOPICS = ("delivery", "packaging", "accuracy", "returns", "billing", "website",
                    "service")  # fmt: skip
COMPLAINT_WEIGHTS = tuple(accumulate((30, 20, 14, 10, 10, 8, 8)))
CONTACT_TOPICS = ("returns", "billing", "delivery", "website", "selection", "service")
CONTACT_WEIGHTS = tuple(accumulate((25, 22, 20, 15, 10, 8)))
RETURN_TOPICS = ("returns", "packaging", "accuracy")
POOLS: dict[str, dict[str, float]] = {
    "relationship": {"selection": 1.5, "price": 1.5, "delivery": 1.5, "discovery": 1,
                     "website": 1, "service": 1, "packaging": 1, "billing": 1, "returns": 1,
                     "accuracy": 1, "emails": 1},
    "purchase": {"price": 2, "selection": 2, "website": 2, "discovery": 1, "billing": 1.5,
                 "emails": 1},
    "delivery": {"delivery": 3, "packaging": 2, "accuracy": 2},
    "support": {"service": 5, "billing": 2, "website": 1.5, "returns": 1},
    "returns": {"returns": 5, "service": 2, "packaging": 1},
}  # fmt: skip
POOL_DRAWS = {k: (list(p), list(accumulate(p.values()))) for k, p in POOLS.items()}


class Simulation:
    def __init__(
        self, timeline: Timeline, today: date, *, link_days: int = 14, seed: int = SEED
    ) -> None:
        self.timeline = timeline
        self.link_days = link_days
        self.rng = random.Random(seed)
        self.writer = Writer(random.Random(seed + 1))
        self.end = datetime.combine(today, clock(0), tzinfo=UTC)
        self.temper: dict[str, float] = {}
        self.topics: dict[int, str] = {}

    def _weighted(self, pool: str, prefer: str | None = None) -> list[str]:
        """Two themes of `pool` (the first `prefer`, when given), likelier ones more often."""
        names, weights = POOL_DRAWS[pool]
        first, second, third = self.rng.choices(names, cum_weights=weights, k=3)
        first = prefer or first
        return [first, third if second == first else second]

    def _sent(self, day: date) -> datetime:
        return datetime.combine(day, SEND_AT, tzinfo=UTC)

    def _next_send(self, day: date) -> datetime:
        """The first send on or after `day`."""
        while day.weekday() not in SEND_DAYS:
            day += timedelta(days=1)
        return self._sent(day)

    def asks(self) -> list[Ask]:
        """Every question put to a customer, in time order."""
        rng = self.rng
        out: list[Ask] = []
        customers = list(self.timeline.customers.values())
        starts = [w.purchases[0] for w in customers if w.purchases]
        if not starts:
            return out
        begin = min(starts)
        waves: list[list[datetime]] = []  # each wave's send moments
        day = begin.date() + timedelta(days=FIRST_WAVE_DAYS)
        while self._sent(day) < self.end:
            sends = [self._sent(day + timedelta(days=n)) for n in range(WAVE_SEND_DAYS)]
            waves.append([s for s in sends if s < self.end])
            day += timedelta(days=WAVE_EVERY_DAYS)
        settled = timedelta(days=21)  # asked about the relationship three weeks after joining
        for who in customers:
            uid = who.user_id
            self.temper[uid] = rng.gauss(0.1, 0.9)
            if not who.purchases:
                continue
            joined = who.purchases[0]
            for sends in waves:
                if rng.random() < WAVE_SHARE:
                    sent = rng.choice(sends)
                    if sent - joined > settled:
                        out.append(Ask(RELATIONSHIP, uid, joined, sent, "email"))
            if rng.random() < IN_APP_SHARE:
                anchor = rng.choice(who.purchases)
                at = anchor + timedelta(days=rng.randrange(5, 90), minutes=rng.randrange(600))
                channel = "app" if who.app and rng.random() < 0.7 else "web"
                out.append(Ask(RELATIONSHIP, uid, anchor, at, channel, invited=False))
            for bought in who.purchases:
                if rng.random() < PURCHASE_INVITE:
                    delivery = rng.random() < 0.5
                    sent = self._next_send(bought.date() + timedelta(days=4 if delivery else 1))
                    out.append(Ask(AFTER_PURCHASE, uid, bought, sent, "email",
                                   touchpoint="delivery" if delivery else "purchase",
                                   department="fulfilment" if delivery else "sales"))  # fmt: skip
                elif rng.random() < ORDER_PAGE_ANSWER:
                    at = bought + timedelta(minutes=rng.randrange(1, 15))
                    out.append(Ask(AFTER_PURCHASE, uid, bought, at, "web", touchpoint="purchase",
                                   department="sales", invited=False))  # fmt: skip
            for complaint in who.complaints:
                topic = rng.choices(COMPLAINT_TOPICS, cum_weights=COMPLAINT_WEIGHTS)[0]
                self.topics[id(complaint)] = topic
                if rng.random() >= COMPLAINT_INVITE:
                    continue
                after = complaint.resolved_at or complaint.at + timedelta(days=6)
                sent = self._next_send(after.date() + timedelta(days=1))
                owner: str | None
                if topic in RETURN_TOPICS:
                    plan, touch, owner = RETURNS, "return", "fulfilment"
                else:
                    plan, touch = SUPPORT, "complaint"
                    owner = "billing" if topic == "billing" else "support"
                out.append(Ask(plan, uid, complaint.resolved_at or complaint.at, sent, "email",
                               touch, owner, topic, complaint=complaint))  # fmt: skip
            for at, channel in who.contacts:
                topic = rng.choices(CONTACT_TOPICS, cum_weights=CONTACT_WEIGHTS)[0]
                plan = RETURNS if topic == "returns" else SUPPORT
                owner = "billing" if topic == "billing" else plan.department
                touch = "return" if plan is RETURNS else "support contact"
                if channel in ("phone", "chat") and rng.random() < CALL_SURVEY:
                    moment = at + timedelta(minutes=rng.randrange(3, 25))
                    out.append(Ask(plan, uid, at, moment, channel, touch, owner, topic,
                                   invited=False))  # fmt: skip
                elif channel == "email" and rng.random() < EMAIL_CONTACT_INVITE:
                    sent = self._next_send(at.date() + timedelta(days=1))
                    out.append(Ask(plan, uid, at, sent, "email", touch, owner, topic))
        order = {plan.key: i for i, plan in enumerate(PLANS)}
        kept = [a for a in out if a.at < self.end]
        kept.sort(key=lambda a: (a.at, order[a.plan.key], a.user_id))
        return kept

    def answered_at(self, ask: Ask) -> datetime | None:
        """When an asked customer answers, or None (no answer, or not yet)."""
        rng = self.rng
        if not ask.invited:
            return ask.at
        if rng.random() >= RESPONSE_RATE:
            return None
        hours = min(rng.expovariate(1 / 18), 24 * self.link_days - 2)
        moment = ask.at + timedelta(hours=hours, seconds=rng.randrange(3600))
        return moment if moment < self.end else None

    def answer(self, ask: Ask, at: datetime, survey: dict[str, Any], n: int) -> service.Answer:
        rng = self.rng
        who = self.timeline.customers[ask.user_id]
        mood = mood_at(who, at, self.temper[ask.user_id])
        value = mood.value
        prefer: str | None = None
        recovered: str | None = None
        pool = ask.plan.key
        if ask.plan is AFTER_PURCHASE:
            pool = "delivery" if ask.touchpoint == "delivery" else "purchase"
            if ask.touchpoint == "delivery" and rng.random() < 0.12:  # a parcel that went wrong
                value -= 2.2
                prefer = rng.choice(("delivery", "delivery", "packaging", "accuracy"))
        elif ask.topic is not None:
            prefer = ask.topic
            complaint = ask.complaint
            if complaint is not None:
                fixed = complaint.resolved_at
                if fixed is None or fixed > at:
                    value -= 1.0  # asked about a complaint nobody resolved
                elif fixed - complaint.at < timedelta(days=7):
                    value += 1.2  # put right quickly
                    recovered = ask.topic if ask.topic != "service" else None
            if rng.random() < 0.35:
                prefer = "service"
        else:
            if mood.unresolved is not None and rng.random() < 0.75:
                prefer = self.topics.get(id(mood.unresolved))
            elif mood.recovered is not None and rng.random() < 0.5:
                recovered = self.topics.get(id(mood.recovered))
                if recovered == "service":
                    recovered = None
            if who.emails >= 3 and rng.random() < 0.1:
                prefer = "emails"
        kind = ask.plan.kind
        score = (nps_score(rng, value) if kind == "nps" else csat_score(rng, value)
                 if kind == "csat" else ces_score(rng, value))  # fmt: skip
        tone = tone_of(kind, score)
        themes = self._weighted(pool, prefer)
        why = self.writer.why(tone, themes, recovered=recovered if tone != "neg" else None)
        department = ask.department
        if ask.plan is RELATIONSHIP and why is not None:
            department = OWNER[themes[0]]
        return service.Answer(
            survey=survey,
            score=score,
            answered_at=at,
            identities=[("user_id", ask.user_id)],
            message_id=f"{MESSAGE_PREFIX}{ask.plan.key}-{ask.user_id}-{n}",
            why=why,
            department=department,
            channel=ask.channel,
            touchpoint=ask.touchpoint,
        )


# ---------------------------------------------------------------- loading


def _surveys(conn: Connection, settings: SurveySettings, now: datetime) -> dict[str, Any]:
    found = {}
    for plan in PLANS:
        try:
            found[plan.key] = service.find(conn, plan.name)
        except NotFound:
            data = service.parse_survey(_survey_data(plan, settings.brand))
            found[plan.key] = service.create(conn, data, settings=settings, now=now)
    return found


def _customer_ids(conn: Connection, user_ids: list[str]) -> dict[str, int]:
    i = cast(Table, Identity.__table__)
    found: dict[str, int] = {}
    for start in range(0, len(user_ids), 500):
        part = user_ids[start : start + 500]
        rows = conn.execute(
            select(i.c.value, i.c.customer_id).where(i.c.kind == "user_id", i.c.value.in_(part))
        )
        found.update((str(value), int(customer)) for value, customer in rows)
    return found


def _already_loaded(conn: Connection) -> bool:
    r = service.responses_t
    found = conn.execute(
        select(r.c.id).where(r.c.message_id.like(f"{MESSAGE_PREFIX}%")).limit(1)
    ).first()
    return found is not None


def load(
    engine: Engine,
    timeline: Timeline,
    *,
    today: date,
    live: Live | None,
    settings: SurveySettings | None = None,
    now: datetime | None = None,
) -> Summary:
    """Create the demo's surveys, invite and record the simulated answers and fit the themes,
    in one transaction: all of it or nothing, and nothing again once the answers are in."""
    started = time.perf_counter()
    config = branded(settings or SurveySettings())
    moment = now or datetime.now(UTC)
    summary = Summary()

    def work(conn: Connection) -> tuple[int, int]:
        surveys = _surveys(conn, config, moment)
        if _already_loaded(conn) or not timeline.customers:
            return 0, 0
        sim = Simulation(timeline, today, link_days=config.link_days)
        asks = sim.asks()
        invited = _invite(conn, asks, surveys, config)
        answers, opened = _answers(sim, asks, invited, surveys)
        stored = 0
        for start in range(0, len(answers), RECORD_BATCH):
            part = answers[start : start + RECORD_BATCH]
            got = service.record(conn, part, settings=config, live=live, now=moment,
                                 source=SOURCE)  # fmt: skip
            _stamp(conn, [a for a in part if a.invitation_id is not None], opened)
            stored += got.stored
        if stored:
            survey_themes.fit(conn, now=moment)
        return stored, sum(1 for a in asks if a.invited) - len(invited)

    summary.new_answers, summary.held_back = run_write(engine, work)
    _count(engine, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _invite(
    conn: Connection,
    asks: list[Ask],
    surveys: dict[str, Any],
    settings: SurveySettings,
) -> dict[int, int]:
    """Send the invitations in time order, one daily send per survey; return, per ask (its
    index), the invitation id of those the fatigue guard let through."""
    users = sorted({a.user_id for a in asks if a.invited})
    if not users:
        return {}
    ids = _customer_ids(conn, users)
    groups: dict[tuple[datetime, str], list[int]] = {}
    for index, ask in enumerate(asks):
        if ask.invited and ask.user_id in ids:
            groups.setdefault((ask.at, ask.plan.key), []).append(index)
    order = {plan.key: i for i, plan in enumerate(PLANS)}
    out: dict[int, int] = {}
    for (sent, key), indexes in sorted(groups.items(), key=lambda g: (g[0][0], order[g[0][1]])):
        by_customer = {ids[asks[i].user_id]: i for i in indexes}
        result = service.invite(conn, surveys[key], list(by_customer), settings=settings,
                                now=sent, via="link")  # fmt: skip
        for item in result.invited:
            out[by_customer[item.customer_id]] = item.invitation_id
    return out


def _answers(
    sim: Simulation, asks: list[Ask], invited: dict[int, int], surveys: dict[str, Any]
) -> tuple[list[service.Answer], dict[int, datetime]]:
    """The answers, oldest first, and when each answered invitation was opened."""
    answers: list[service.Answer] = []
    opened: dict[int, datetime] = {}
    counts: dict[tuple[str, str], int] = {}
    for index, ask in enumerate(asks):
        if ask.invited and index not in invited:
            continue
        at = sim.answered_at(ask)
        if at is None:
            continue
        key = (ask.plan.key, ask.user_id)
        counts[key] = counts.get(key, 0) + 1
        answer = sim.answer(ask, at, surveys[ask.plan.key], counts[key])
        if ask.invited:
            answer.invitation_id = invited[index]
            opened[invited[index]] = max(ask.at, at - timedelta(seconds=sim.rng.randrange(20, 600)))
        answers.append(answer)
    answers.sort(key=lambda a: a.answered_at)
    return answers, opened


def _stamp(conn: Connection, answers: list[service.Answer], opened: dict[int, datetime]) -> None:
    """`record` marks an invitation answered at the moment of recording; the demo replays the
    past, so set when it was opened and answered in the simulated timeline."""
    if not answers:
        return
    t = service.invitations_t
    conn.execute(
        update(t)
        .where(t.c.id == bindparam("iid"))
        .values(opened_at=bindparam("opened"), answered_at=bindparam("answered")),
        [
            {"iid": a.invitation_id, "opened": opened[cast(int, a.invitation_id)],
             "answered": a.answered_at}
            for a in answers
        ],
    )  # fmt: skip


def _count(engine: Engine, summary: Summary) -> None:
    r = service.responses_t
    with engine.connect() as conn:
        summary.surveys = int(conn.execute(select(func.count()).select_from(service.surveys_t))
                              .scalar_one())  # fmt: skip
        summary.invitations = int(
            conn.execute(select(func.count()).select_from(service.invitations_t)).scalar_one()
        )
        summary.answers = int(conn.execute(select(func.count()).select_from(r)).scalar_one())
        summary.with_why = int(
            conn.execute(
                select(func.count()).select_from(r).where(r.c.why.is_not(None))
            ).scalar_one()
        )
        bands: dict[str, int] = dict(
            conn.execute(
                select(r.c.band, func.count())
                .join(service.surveys_t, service.surveys_t.c.id == r.c.survey_id)
                .where(service.surveys_t.c.kind == "nps")
                .group_by(r.c.band)
            ).all()
        )
        n = sum(bands.values())
        if n:
            summary.nps = round(100 * (bands.get("promoter", 0) - bands.get("detractor", 0)) / n,
                                1)  # fmt: skip
        themes_t = survey_themes.themes_t
        summary.themes = [
            str(name)
            for name in conn.execute(
                select(themes_t.c.name)
                .where(themes_t.c.merged_into_id.is_(None))
                .order_by(themes_t.c.position)
            ).scalars()
        ]


def describe(summary: Summary) -> str:
    """One line for people: what the demo's surveys hold."""
    nps = "none" if summary.nps is None else f"{summary.nps:+.0f}"
    return (
        f"{summary.surveys} surveys, {summary.invitations:,} invitations, "
        f"{summary.answers:,} answers, NPS {nps}, {len(summary.themes)} themes"
    )
