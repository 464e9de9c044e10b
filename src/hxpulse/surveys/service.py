"""Survey logic: definitions, answers (stored as events, rolled up as they arrive) and the
fatigue-guarded, signed invitations. The API, pages, CLI and import all go through here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Connection, Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from hxpulse import ingest as ingesting
from hxpulse.config import Live, SurveySettings
from hxpulse.customers.models import Customer, Identity
from hxpulse.db.base import parse_id
from hxpulse.errors import Conflict, Invalid, NotFound
from hxpulse.events.intake import describe
from hxpulse.events.models import Event
from hxpulse.events.schemas import EventCreate, EventIn, IdentityKey, as_utc, stable_message_id
from hxpulse.privacy import consent
from hxpulse.segments import service as segments
from hxpulse.surveys import kinds, textfit, themes
from hxpulse.surveys.models import (
    COUNT_COLUMNS,
    Invitation,
    Response,
    ScoreCount,
    Survey,
)
from hxpulse.surveys.schemas import ResponseCreate, SurveyIn

surveys_t = cast(Table, Survey.__table__)
invitations_t = cast(Table, Invitation.__table__)
responses_t = cast(Table, Response.__table__)
counts_t = cast(Table, ScoreCount.__table__)
events_t = cast(Table, Event.__table__)
NO_GROUP = ""  # the rolled-up counts' department, channel or touchpoint when there is none


# ---------------------------------------------------------------- definitions


def _out(row: Any) -> dict[str, Any]:
    survey = dict(row._mapping)
    spec = kinds.spec(survey["kind"])
    survey["followups"] = {**kinds.default_followups(survey["kind"]), **survey["followups"]}
    survey["scale"] = {
        "low": spec.low,
        "high": spec.high,
        "low_label": spec.low_label,
        "high_label": spec.high_label,
    }
    return survey


def get(conn: Connection, survey_id: int) -> dict[str, Any]:
    row = conn.execute(select(surveys_t).where(surveys_t.c.id == survey_id)).first()
    if row is None:
        raise NotFound(f"no survey with id {survey_id}")
    return _out(row)


def find(conn: Connection, ref: str | int) -> dict[str, Any]:
    """The survey named `ref`, or with id `ref`."""
    row = conn.execute(select(surveys_t).where(surveys_t.c.name == str(ref))).first()
    if row is None and (number := parse_id(str(ref))) is not None:
        row = conn.execute(select(surveys_t).where(surveys_t.c.id == number)).first()
    if row is None:
        raise NotFound(f"no survey named {ref!r}")
    return _out(row)


def list_surveys(conn: Connection) -> list[dict[str, Any]]:
    """Every survey with its invitation and answer counts and response rate."""
    sent: dict[int, int] = dict(
        conn.execute(
            select(invitations_t.c.survey_id, func.count()).group_by(invitations_t.c.survey_id)
        ).all()
    )
    answered: dict[int, int] = dict(
        conn.execute(
            select(invitations_t.c.survey_id, func.count())
            .where(invitations_t.c.answered_at.is_not(None))
            .group_by(invitations_t.c.survey_id)
        ).all()
    )
    totals = [func.sum(counts_t.c[c]) for c in COUNT_COLUMNS]
    answers = {
        row[0]: int(sum(v or 0 for v in row[1:]))
        for row in conn.execute(
            select(counts_t.c.survey_id, *totals).group_by(counts_t.c.survey_id)
        )
    }
    out = []
    for row in conn.execute(select(surveys_t).order_by(surveys_t.c.name)):
        survey = _out(row)
        invited = int(sent.get(survey["id"], 0))
        done = int(answered.get(survey["id"], 0))
        survey.update(
            invited=invited,
            answered_invitations=done,
            responses=answers.get(survey["id"], 0),
            response_rate=round(100 * done / invited, 1) if invited else None,
        )
        out.append(survey)
    return out


def parse_survey(data: Any) -> SurveyIn:
    try:
        return SurveyIn.model_validate(data)
    except ValidationError as exc:
        raise Invalid(describe(exc), errors=_errors(exc)) from None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "survey", "message": e["msg"]}
        for e in exc.errors()
    ]


def _values(conn: Connection, data: SurveyIn, settings: SurveySettings) -> dict[str, Any]:
    if data.segment_id is not None:
        segments.get(conn, data.segment_id)
    values = data.model_dump()
    values["question"] = data.question or kinds.default_question(data.kind, settings.brand)
    values.pop("trigger_cursor", None)
    return values


def _latest_event(conn: Connection) -> int:
    """Where a new or changed trigger starts: only events from now on invite."""
    return int(conn.execute(select(func.coalesce(func.max(events_t.c.id), 0))).scalar_one())


def create(
    conn: Connection, data: SurveyIn, *, settings: SurveySettings, now: datetime
) -> dict[str, Any]:
    values = _values(conn, data, settings)
    values["trigger_cursor"] = _latest_event(conn)
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(surveys_t)
                .values(**values, created_at=now, updated_at=now)
                .returning(surveys_t.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(
            f"a survey named {data.name!r} already exists",
            errors=[{"field": "name", "message": "already taken"}],
        ) from None
    return get(conn, new_id)


def update_survey(
    conn: Connection, survey_id: int, data: SurveyIn, *, settings: SurveySettings, now: datetime
) -> dict[str, Any]:
    before = get(conn, survey_id)
    if before["kind"] != data.kind and _has_answers(conn, survey_id):
        raise Invalid(
            "a survey with answers keeps its kind; create a new survey instead",
            errors=[{"field": "kind", "message": "cannot change"}],
        )
    values = _values(conn, data, settings)
    if data.trigger_event != before["trigger_event"]:
        values["trigger_cursor"] = _latest_event(conn)
    try:
        with conn.begin_nested():
            conn.execute(
                update(surveys_t)
                .where(surveys_t.c.id == survey_id)
                .values(**values, updated_at=now)
            )
    except IntegrityError:
        raise Conflict(
            f"a survey named {data.name!r} already exists",
            errors=[{"field": "name", "message": "already taken"}],
        ) from None
    return get(conn, survey_id)


def _has_answers(conn: Connection, survey_id: int) -> bool:
    found = conn.execute(select(responses_t.c.id).where(responses_t.c.survey_id == survey_id))
    return found.first() is not None


def ensure(
    conn: Connection, name: str, kind: str, *, settings: SurveySettings, now: datetime
) -> dict[str, Any]:
    """The survey named `name`, created with `kind` if there is none."""
    try:
        return find(conn, name)
    except NotFound:
        return create(conn, parse_survey({"name": name, "kind": kind}), settings=settings, now=now)


# ---------------------------------------------------------------- answers


@dataclass(slots=True)
class Answer:
    """One validated answer, ready to record."""

    survey: dict[str, Any]
    score: int
    answered_at: datetime
    identities: list[IdentityKey]
    message_id: str
    why: str | None = None
    department: str | None = None
    channel: str | None = None
    touchpoint: str | None = None
    invitation_id: int | None = None
    band: str = ""

    def __post_init__(self) -> None:
        spec = kinds.spec(self.survey["kind"])
        if not spec.low <= self.score <= spec.high:
            raise Invalid(
                f"score {self.score} is outside {self.survey['name']!r}'s scale "
                f"({spec.label}: {spec.low} to {spec.high})",
                errors=[{"field": "score", "message": f"must be {spec.low} to {spec.high}"}],
            )
        self.band = kinds.band_of(self.survey["kind"], self.score)
        self.why = (self.why or "").strip() or None
        self.department = self.department or self.survey.get("department")
        self.touchpoint = self.touchpoint or self.survey.get("touchpoint")


@dataclass(slots=True)
class Recorded:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    response_ids: list[int] = field(default_factory=list)


def answer_from(
    conn: Connection,
    data: ResponseCreate,
    *,
    settings: SurveySettings,
    now: datetime,
    create_kind: str | None = None,
    cache: dict[str, dict[str, Any]] | None = None,
) -> Answer:
    """Turn one posted or imported answer into an `Answer` (raises Invalid with the field)."""
    cache = {} if cache is None else cache
    survey = cache.get(data.survey)
    if survey is None:
        if create_kind is not None:
            survey = ensure(conn, data.survey, create_kind, settings=settings, now=now)
        else:
            try:
                survey = find(conn, data.survey)
            except NotFound:
                raise Invalid(
                    f"survey: no survey named {data.survey!r} (create it first, or import "
                    "with --create-survey nps)",
                    errors=[{"field": "survey", "message": "unknown survey"}],
                ) from None
        cache[data.survey] = survey
    ids = {
        k: getattr(data, k)
        for k in ("user_id", "email", "phone", "anonymous_id", "external_id")
        if getattr(data, k)
    }
    keys = EventCreate.model_construct(**ids).identity_keys()
    if not keys:
        raise Invalid(
            "the answer names no customer: give one of user_id, email, phone, "
            "anonymous_id, external_id",
            errors=[{"field": "email", "message": "required"}],
        )
    message_id = data.message_id or stable_message_id(
        "response", data.model_dump(mode="json", exclude_none=True)
    )
    return Answer(
        survey=survey,
        score=data.score,
        answered_at=as_utc(data.answered_at),
        identities=keys,
        message_id=message_id,
        why=data.why,
        department=data.department,
        channel=data.channel,
        touchpoint=data.touchpoint,
    )


def _events(answer: Answer, source: str) -> list[EventIn]:
    """The answer as events: `survey_response`, and for NPS the promoter/passive/detractor
    experience the pulse and the journey weigh."""
    survey = answer.survey
    properties: dict[str, Any] = {
        "survey": survey["name"],
        "survey_id": survey["id"],
        "kind": survey["kind"],
        "score": answer.score,
        "band": answer.band,
    }
    if answer.why:
        properties["why"] = answer.why
    if answer.touchpoint:
        properties["touchpoint"] = answer.touchpoint
    common: dict[str, Any] = dict(
        occurred_at=answer.answered_at,
        identities=answer.identities,
        channel=answer.channel or "other",
        source=source,
        department=answer.department,
    )
    out = [
        EventIn(
            message_id=answer.message_id,
            kind="track",
            type="survey_response",
            properties=properties,
            **common,
        )
    ]
    if survey["kind"] == "nps":
        out.append(
            EventIn(
                message_id=f"{answer.message_id}:{answer.band}",
                kind="track",
                type=answer.band,
                value=float(answer.score),
                properties={"survey": survey["name"], "score": answer.score},
                **common,
            )
        )
    return out


def record(
    conn: Connection,
    answers: Sequence[Answer],
    *,
    settings: SurveySettings,
    live: Live | None,
    now: datetime,
    source: str = "survey",
) -> Recorded:
    """Store `answers` in the caller's transaction: their events (pulse, journey), the answer
    rows with sentiment and follow-up flag, and the rolled-up counts. Idempotent by message id."""
    result = Recorded(received=len(answers))
    unique: dict[str, Answer] = {}
    for answer in answers:
        unique.setdefault(answer.message_id, answer)
    batch = [event for answer in unique.values() for event in _events(answer, source)]
    stored = ingesting.ingest_in(conn, batch, now=now, live=live)
    fresh = [a for a in unique.values() if a.message_id in stored.new_message_ids]
    result.duplicates = len(answers) - len(fresh)
    if not fresh:
        return result
    owner = dict(
        conn.execute(
            select(events_t.c.message_id, events_t.c.customer_id).where(
                events_t.c.message_id.in_([a.message_id for a in fresh])
            )
        ).all()
    )
    scores = textfit.score_many(conn, [a.why or "" for a in fresh])  # model or VADER
    rows = []
    for answer, feeling in zip(fresh, scores, strict=True):
        flagged = textfit.needs_follow_up(
            answer.band, None if answer.why is None else feeling, settings=settings
        )
        rows.append(
            {
                "survey_id": answer.survey["id"],
                "customer_id": owner[answer.message_id],
                "invitation_id": answer.invitation_id,
                "message_id": answer.message_id,
                "score": answer.score,
                "band": answer.band,
                "why": answer.why,
                "sentiment": feeling if answer.why else None,
                "flagged": flagged,
                "answered_at": answer.answered_at,
                "department": answer.department,
                "channel": answer.channel,
                "touchpoint": answer.touchpoint,
                "themed": False,
            }
        )
    ids = (
        conn.execute(
            insert(responses_t).returning(responses_t.c.id, sort_by_parameter_order=True), rows
        )
        .scalars()
        .all()
    )
    add_counts(
        conn,
        [
            (a.survey["id"], a.answered_at, a.department, a.channel, a.touchpoint, a.score)
            for a in fresh
        ],
    )
    invited = [a.invitation_id for a in fresh if a.invitation_id is not None]
    if invited:
        conn.execute(
            update(invitations_t).where(invitations_t.c.id.in_(invited)).values(answered_at=now)
        )
    themes.assign_new(conn, list(ids), [a.why for a in fresh])
    result.stored = len(fresh)
    result.response_ids = list(ids)
    return result


CountKey = tuple[int, date, str, str, str]


def add_counts(
    conn: Connection,
    answers: Sequence[tuple[int, datetime, str | None, str | None, str | None, int]],
) -> None:
    """Add answers (survey id, moment, department, channel, touchpoint, score) to the rolled-up
    counts, one upsert per (survey, UTC day, department, channel, touchpoint)."""
    cells: dict[CountKey, Counter[int]] = {}
    for survey_id, moment, department, channel, touchpoint, score in answers:
        key = (
            survey_id,
            moment.astimezone(UTC).date(),
            department or NO_GROUP,
            channel or NO_GROUP,
            touchpoint or NO_GROUP,
        )
        cells.setdefault(key, Counter())[score] += 1
    if not cells:
        return
    columns = ("survey_id", "day", "department", "channel", "touchpoint", *COUNT_COLUMNS)
    adds = ", ".join(f"{c} = survey_score_counts.{c} + excluded.{c}" for c in COUNT_COLUMNS)
    marks = ", ".join(f":{c}" for c in columns)
    sql = (
        f"INSERT INTO survey_score_counts ({', '.join(columns)}) VALUES ({marks}) "
        "ON CONFLICT (survey_id, day, department, channel, touchpoint) "
        f"DO UPDATE SET {adds}"
    )
    params = []
    for (survey_id, day, department, channel, touchpoint), counter in sorted(cells.items()):
        row: dict[str, Any] = {
            "survey_id": survey_id,
            "day": day,
            "department": department,
            "channel": channel,
            "touchpoint": touchpoint,
        }
        row.update({f"c{s}": counter.get(s, 0) for s in range(11)})
        params.append(row)
    conn.execute(text(sql), params)


def rebuild_counts(conn: Connection) -> int:
    """Recompute the rolled-up counts from the answers (after a restore, say); returns rows."""
    conn.execute(counts_t.delete())
    day = (
        "date(answered_at)"
        if conn.dialect.name == "sqlite"
        else "(answered_at AT TIME ZONE 'UTC')::date"
    )
    sums = ", ".join(f"SUM(CASE WHEN score = {s} THEN 1 ELSE 0 END)" for s in range(11))
    conn.execute(
        text(
            f"INSERT INTO survey_score_counts (survey_id, day, department, channel, touchpoint, "
            f"{', '.join(COUNT_COLUMNS)}) SELECT survey_id, {day}, COALESCE(department, ''), "
            f"COALESCE(channel, ''), COALESCE(touchpoint, ''), {sums} FROM survey_responses "
            f"GROUP BY survey_id, {day}, COALESCE(department, ''), COALESCE(channel, ''), "
            "COALESCE(touchpoint, '')"
        )
    )
    return int(conn.execute(select(func.count()).select_from(counts_t)).scalar_one())


# ---------------------------------------------------------------- invitations


@dataclass(slots=True)
class Invited:
    customer_id: int
    invitation_id: int
    email: str | None
    link: str = ""


@dataclass(slots=True)
class InviteResult:
    invited: list[Invited] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "invited": [
                {
                    "customer_id": i.customer_id,
                    "invitation_id": i.invitation_id,
                    "email": i.email,
                    "link": i.link,
                }
                for i in self.invited
            ],
            "skipped": self.skipped,
            "counts": {"invited": len(self.invited), "skipped": len(self.skipped)},
        }


def _days(delta: timedelta) -> str:
    days = delta.days
    return "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"


def invite(
    conn: Connection,
    survey: dict[str, Any],
    customer_ids: Sequence[int],
    *,
    settings: SurveySettings,
    now: datetime,
    via: str = "link",
) -> InviteResult:
    """Create invitations for `customer_ids`, holding back whoever said no to surveys (the
    `surveys` consent purpose: allowed unless denied) and whoever the fatigue guard protects:
    one invitation per survey per `per_survey_days`, one of any survey per `any_survey_days`.
    With `via="email"`, customers without an email address or who opted out of email are
    skipped."""
    result = InviteResult()
    if not survey["active"]:
        raise Invalid(f"survey {survey['name']!r} is paused; activate it to invite")
    wanted = list(dict.fromkeys(customer_ids))
    live = _live_customers(conn, wanted)
    horizon = now - timedelta(days=max(settings.per_survey_days, settings.any_survey_days))
    last_same: dict[int, datetime] = {}
    last_any: dict[int, tuple[datetime, str]] = {}
    names = dict(conn.execute(select(surveys_t.c.id, surveys_t.c.name)).all())
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        found = conn.execute(
            select(
                invitations_t.c.customer_id,
                invitations_t.c.survey_id,
                func.max(invitations_t.c.sent_at),
            )
            .where(invitations_t.c.customer_id.in_(part), invitations_t.c.sent_at > horizon)
            .group_by(invitations_t.c.customer_id, invitations_t.c.survey_id)
        ).all()
        for customer_id, survey_id, sent in found:
            sent = as_utc(sent) if isinstance(sent, datetime) else _parse(sent)
            if survey_id == survey["id"]:
                last_same[customer_id] = sent
            if customer_id not in last_any or sent > last_any[customer_id][0]:
                last_any[customer_id] = (sent, names.get(survey_id, "?"))
    emails = _emails(conn, wanted) if via == "email" else {}
    per_survey = timedelta(days=settings.per_survey_days)
    any_survey = timedelta(days=settings.any_survey_days)
    rows: list[dict[str, Any]] = []
    for customer_id in wanted:
        reason = None
        if customer_id not in live:
            reason = "no such customer"
        elif not consent.allows_consent(live[customer_id], "surveys"):
            reason = "said no to surveys"
        elif customer_id in last_same and now - last_same[customer_id] < per_survey:
            reason = (
                f"invited to this survey {_days(now - last_same[customer_id])} "
                f"(at most once per {settings.per_survey_days} days)"
            )
        elif customer_id in last_any and now - last_any[customer_id][0] < any_survey:
            sent, name = last_any[customer_id]
            reason = (
                f"invited to survey {name!r} {_days(now - sent)} "
                f"(at most one survey per {settings.any_survey_days} days)"
            )
        elif via == "email" and not consent.email_allowed(live[customer_id]):
            reason = "opted out of email"
        elif via == "email" and customer_id not in emails:
            reason = "no email address"
        if reason:
            result.skipped.append({"customer_id": customer_id, "reason": reason})
            continue
        rows.append(
            {
                "survey_id": survey["id"],
                "customer_id": customer_id,
                "via": via,
                "email": emails.get(customer_id),
                "sent_at": now,
                "expires_at": now + timedelta(days=settings.link_days),
            }
        )
    if rows:
        ids = (
            conn.execute(
                insert(invitations_t).returning(invitations_t.c.id, sort_by_parameter_order=True),
                rows,
            )
            .scalars()
            .all()
        )
        for row, new_id in zip(rows, ids, strict=True):
            result.invited.append(Invited(row["customer_id"], new_id, row["email"]))
    return result


def _parse(value: Any) -> datetime:
    return as_utc(datetime.fromisoformat(str(value)))


def _live_customers(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The customers among `ids` that exist and are not merged away, with their consent."""
    c = cast(Table, Customer.__table__)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for cid, answers in conn.execute(
            select(c.c.id, c.c.consent).where(c.c.id.in_(part), c.c.merged_into_id.is_(None))
        ):
            found[cid] = answers or {}
    return found


def _emails(conn: Connection, ids: list[int]) -> dict[int, str]:
    i = cast(Table, Identity.__table__)
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        rows = conn.execute(
            select(i.c.customer_id, i.c.value)
            .where(i.c.customer_id.in_(part), i.c.kind == "email")
            .order_by(i.c.id)
        )
        for cid, value in rows:
            found.setdefault(cid, value)
    return found


def withdraw(conn: Connection, invitation_ids: Sequence[int]) -> None:
    """Remove invitations that could not be delivered, so they count for nothing."""
    if invitation_ids:
        conn.execute(invitations_t.delete().where(invitations_t.c.id.in_(list(invitation_ids))))


def invitation(conn: Connection, invitation_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(invitations_t).where(invitations_t.c.id == invitation_id)).first()
    return None if row is None else dict(row._mapping)


def mark_opened(conn: Connection, invitation_id: int, now: datetime) -> None:
    conn.execute(
        update(invitations_t)
        .where(invitations_t.c.id == invitation_id, invitations_t.c.opened_at.is_(None))
        .values(opened_at=now)
    )


def customer_identities(conn: Connection, customer_id: int) -> list[IdentityKey]:
    """The identities an invited customer's answer is recorded under (their internal id is
    not an identity, so the first known identity is used)."""
    i = cast(Table, Identity.__table__)
    rows = conn.execute(
        select(i.c.kind, i.c.value).where(i.c.customer_id == customer_id).order_by(i.c.id)
    ).all()
    return [(str(kind), str(value)) for kind, value in rows[:1]]


# ---------------------------------------------------------------- hxpulse.toml


def sync_definitions(conn: Connection, settings: SurveySettings, *, now: datetime) -> list[str]:
    """Create or update the surveys of `[[surveys.definitions]]` to match the file (a survey
    named there is the file's; surveys not named there are left alone). Returns the names of
    the surveys created or changed. `segment` may name a saved segment instead of segment_id."""
    changed = []
    for index, raw in enumerate(settings.definitions):
        where = f"surveys.definitions[{index}]"
        entry = dict(raw)
        if "segment" in entry:
            try:
                entry["segment_id"] = segments.find(conn, entry.pop("segment"))["id"]
            except NotFound as exc:
                raise Invalid(f"{where}.segment: {exc.message}") from None
        try:
            data = SurveyIn.model_validate(entry)
        except ValidationError as exc:
            raise Invalid(f"{where}: {describe(exc)}", errors=_errors(exc)) from None
        try:
            before = find(conn, data.name)
        except NotFound:
            create(conn, data, settings=settings, now=now)
            changed.append(data.name)
            continue
        wanted = _values(conn, data, settings)
        if any(before[k] != v for k, v in wanted.items() if k != "followups") or (
            {**kinds.default_followups(data.kind), **data.followups} != before["followups"]
        ):
            update_survey(conn, before["id"], data, settings=settings, now=now)
            changed.append(data.name)
    return changed
