"""NPS by department by month over 10,000,000 survey answers, on SQLite and PostgreSQL, against
DuckDB computing the same aggregate over the same rows in the same run.

Run: `.venv/bin/python bench/nps.py [--rows N] [--only sqlite|postgresql]`.

1. 10,000,000 answers are generated with NumPy (fixed seed): three years of answer times up to
   NOW (recent months busier), 200,000 customers (a skewed spread), four surveys (a relationship
   NPS answered without department or touchpoint, a touchpoint NPS, a support NPS and a delivery
   CSAT, which the NPS report leaves out), eight departments, ten touchpoints each tied to a
   department and answered over a few of the eight channels (realistic combinations, not a full
   cross product), NPS scores whose mix differs by department and drifts over time, and a why for
   about a quarter of the answers (with its sentiment and follow-up flag, as `record()` sets
   them). Only the answer rows are loaded: the events an answer also stores (for the pulse and
   the journey) are not needed here and are measured by the ingestion benchmarks.
2. The same rows are loaded into SQLite (executemany, one transaction), PostgreSQL (COPY) and an
   in-memory DuckDB (from the NumPy arrays): the answers' secondary indexes are built after the
   load, as a restore would, then ANALYZE (sampled on SQLite, as `PRAGMA optimize` does; VACUUM
   ANALYZE on PostgreSQL, as autovacuum would). The rolled-up counts (`survey_score_counts`: per
   survey, UTC day, department, channel and touchpoint, the count of each score) are built by the
   product's own `surveys.service.rebuild_counts`; live, `record()` upserts the same counts in
   each answer's transaction, and tests/surveys/test_record.py::
   test_rolled_up_counts_equal_the_answers shows that the live upserts equal the rebuild. Load
   times are reported; they are not the target.
3. Measured, best of 3 after a warm-up: `surveys.report.report(by="department", period="month")`
   on each database (the product's path: the query over the rolled-up counts and the statistics
   with margins of error), and DuckDB's GROUP BY over the raw rows (promoters, passives,
   detractors, n, NPS; answered_at held as a plain UTC TIMESTAMP, so no time-zone arithmetic;
   both CPUs). For scale, the plain GROUP BY over the raw `survey_responses` rows runs once on
   each database. Every one of them must give the same counts per (department, month), which
   must also equal the counts NumPy takes from the generated arrays: the exactness proof.

Target: the report in under 2 s on SQLite and on PostgreSQL, and no slower than DuckDB over the
raw rows. Exit status 1 when a target fails or any counts differ. The targets are for the full
size (with a small `--rows`, DuckDB's scan is trivially short). A full run takes about nine
minutes on two CPUs, nearly all of it loading; `--rows 1000000` about one and a half.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import duckdb
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, Index, Table, insert, text

from hxpulse.config import Live, Settings, SurveySettings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.db.raw import driver, insert_rows, sqlite_timestamp
from hxpulse.events.models import CHANNELS
from hxpulse.surveys import kinds, report, service
from hxpulse.surveys.models import Response, Survey
from hxpulse.testing.postgres import TemporaryPostgres

TARGET_SECONDS = 2.0
RUNS = 3
CHUNK = 100_000
SEED = 20261101
LIVE = Live()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
START = datetime(2023, 11, 1, tzinfo=UTC)  # three years: 36 months
CUSTOMERS = 200_000
WHY_SHARE = 0.25
DEPARTMENTS = ("Support", "Sales", "Billing", "Delivery", "Returns", "Stores", "Online",
               "Onboarding")  # fmt: skip
# each touchpoint belongs to one department and is answered over a few channels (the first
# most often: where it happened; the others: the emailed link, the app)
TOUCHPOINTS = (
    ("phone support", "Support", ("phone", "email")),
    ("live chat", "Support", ("chat", "email")),
    ("sales call", "Sales", ("phone", "email")),
    ("checkout", "Online", ("web", "app")),
    ("invoice", "Billing", ("email", "web")),
    ("payment", "Billing", ("web", "app", "phone")),
    ("home delivery", "Delivery", ("email", "app", "phone")),
    ("returns portal", "Returns", ("web", "app", "email")),
    ("store visit", "Stores", ("store", "email", "app")),
    ("account setup", "Onboarding", ("web", "app", "email")),
)
TOUCHPOINT_WEIGHTS = (10, 8, 6, 22, 8, 6, 16, 8, 10, 6)
# (id, name, kind, department, share of the answers)
SURVEYS = (
    (1, "Relationship NPS", "nps", None, 0.20),
    (2, "Touchpoint NPS", "nps", None, 0.55),
    (3, "Support NPS", "nps", "Support", 0.15),
    (4, "Delivery CSAT", "csat", "Delivery", 0.10),
)
RELATIONSHIP_CHANNELS = (("email", 0.55), ("web", 0.2), ("app", 0.17), ("social", 0.05),
                         ("other", 0.03))  # fmt: skip
# NPS scores: a mix of a happy and an unhappy answer, the happy share by department (the last:
# answers without one) plus a drift over the three years
HAPPY = (0.004, 0.003, 0.005, 0.008, 0.01, 0.02, 0.04, 0.09, 0.18, 0.27, 0.37)
UNHAPPY = (0.09, 0.05, 0.07, 0.08, 0.09, 0.13, 0.14, 0.13, 0.10, 0.06, 0.05)
HAPPY_SHARE = (0.50, 0.72, 0.42, 0.58, 0.48, 0.78, 0.68, 0.62, 0.64)
DRIFT = (0.18, 0.00, -0.10, 0.05, 0.08, -0.04, 0.06, 0.10, 0.02)
CSAT = (0.0, 0.05, 0.07, 0.13, 0.35, 0.40)
# why texts by mood (good, middling, bad) with their sentiment as analytics.sentiment scores it
WHYS = (
    ("Quick and friendly help, thank you", 0.8126, 0),
    ("Everything worked perfectly", 0.6369, 0),
    ("Great value, I recommend you to everyone", 0.8402, 0),
    ("Fine, nothing special", -0.1174, 1),
    ("OK, but the wait was annoying", -0.5499, 1),
    ("Terrible service, nobody helped me", -0.4767, 2),
    ("Awful, the billing error is still not fixed", -0.6908, 2),
    ("Waited far too long on the phone", 0.0, 2),
    ("The parcel was late and the box was damaged", -0.4404, 2),
)
RESPONSE_COLUMNS = ("id", "survey_id", "customer_id", "message_id", "score", "band", "why",
                    "sentiment", "flagged", "answered_at", "department", "channel", "touchpoint",
                    "themed")  # fmt: skip
CUSTOMER_COLUMNS = ("id", "name", "traits", "preferences", "consent", "created_at", "updated_at")

Counts = dict[tuple[str | None, str], tuple[int, int, int, int]]  # promoters, passives, detr., n

# the plain GROUP BY over the raw answers, for scale (and as one more check of the counts)
PLAIN = {
    "sqlite": "SELECT department, substr(answered_at, 1, 7), sum(score >= 9),"
    " sum(score BETWEEN 7 AND 8), sum(score <= 6), count(*) FROM survey_responses"
    " WHERE survey_id IN (SELECT id FROM surveys WHERE kind = 'nps') GROUP BY 1, 2",
    "postgresql": "SELECT department, to_char(answered_at AT TIME ZONE 'UTC', 'YYYY-MM'),"
    " count(*) FILTER (WHERE score >= 9), count(*) FILTER (WHERE score BETWEEN 7 AND 8),"
    " count(*) FILTER (WHERE score <= 6), count(*) FROM survey_responses"
    " WHERE survey_id IN (SELECT id FROM surveys WHERE kind = 'nps') GROUP BY 1, 2",
}
DUCKDB = (
    "SELECT department, strftime(month, '%Y-%m'), promoters, passives, detractors, n,"
    " 100.0 * (promoters - detractors) / n AS nps FROM ("
    " SELECT department, date_trunc('month', answered_at) AS month,"
    " count(*) FILTER (score >= 9) AS promoters, count(*) FILTER (score BETWEEN 7 AND 8)"
    " AS passives, count(*) FILTER (score <= 6) AS detractors, count(*) AS n"
    " FROM survey_responses WHERE survey_id IN (SELECT id FROM surveys WHERE kind = 'nps')"
    " GROUP BY ALL)"
)


@dataclass
class Answers:
    """The generated answers, one array per column, in time order (ids 1..n)."""

    at: NDArray[np.int64]  # microseconds since the epoch, UTC
    survey: NDArray[np.int8]  # survey id
    department: NDArray[np.int8]  # index in DEPARTMENTS, -1: none
    channel: NDArray[np.int8]  # index in CHANNELS
    touchpoint: NDArray[np.int8]  # index in TOUCHPOINTS, -1: none
    score: NDArray[np.int8]
    customer: NDArray[np.int32]
    why: NDArray[np.int8]  # index in WHYS, -1: none
    flagged: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.at)


def _pick(rng: np.random.Generator, weights: Any, n: int) -> NDArray[np.int64]:
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cumulative / cumulative[-1], rng.random(n), side="right")


def generate(n: int) -> Answers:
    rng = np.random.default_rng(SEED)
    span = int((NOW - START).total_seconds() * 1_000_000)
    u = rng.random(n)  # half uniform, half rising: the newest months about 3x the oldest
    position = np.where(rng.random(n) < 0.5, u, np.sqrt(u))
    order = np.argsort(position, kind="stable")
    position = position[order]
    at = int(START.timestamp()) * 1_000_000 + (position * span).astype(np.int64)
    survey = (_pick(rng, [s[4] for s in SURVEYS], n) + 1).astype(np.int8)
    department = np.full(n, -1, np.int8)
    touchpoint = np.full(n, -1, np.int8)
    channel = np.zeros(n, np.int8)
    ch = {name: i for i, name in enumerate(CHANNELS)}
    dept = {name: i for i, name in enumerate(DEPARTMENTS)}

    rel = np.flatnonzero(survey == 1)
    names, shares = zip(*RELATIONSHIP_CHANNELS, strict=True)
    channel[rel] = np.array([ch[c] for c in names], np.int8)[_pick(rng, shares, len(rel))]

    def at_touchpoint(rows: NDArray[np.intp], weights: Any, candidates: list[int]) -> None:
        chosen = np.array(candidates, np.int8)[_pick(rng, weights, len(rows))]
        touchpoint[rows] = chosen
        for k in candidates:
            mine = rows[chosen == k]
            _, owner, channels = TOUCHPOINTS[k]
            department[mine] = dept[owner]
            shares = [0.6] + [0.4 / (len(channels) - 1)] * (len(channels) - 1)
            picked = _pick(rng, shares, len(mine))
            channel[mine] = np.array([ch[c] for c in channels], np.int8)[picked]

    at_touchpoint(np.flatnonzero(survey == 2), TOUCHPOINT_WEIGHTS, list(range(len(TOUCHPOINTS))))
    support = np.flatnonzero(survey == 3)  # phone, chat, or an email ticket (no touchpoint)
    by_email = rng.random(len(support)) < 0.3
    department[support[by_email]] = dept["Support"]
    channel[support[by_email]] = ch["email"]
    at_touchpoint(support[~by_email], (6, 4), [0, 1])
    at_touchpoint(np.flatnonzero(survey == 4), (1,), [6])

    happy = np.asarray(HAPPY_SHARE)[department] + np.asarray(DRIFT)[department] * position
    mixed = np.where(rng.random(n) < happy, _pick(rng, HAPPY, n), _pick(rng, UNHAPPY, n))
    score = mixed.astype(np.int8)
    csat = survey == 4
    score[csat] = _pick(rng, CSAT, int(csat.sum()))
    customer = (1 + (CUSTOMERS * rng.random(n) ** 2).astype(np.int64)).clip(1, CUSTOMERS)

    mood = np.where(score >= 9, 0, np.where(score >= 7, 1, 2))  # NPS bands
    mood[csat] = np.where(score[csat] >= 4, 0, np.where(score[csat] == 3, 1, 2))
    why = np.full(n, -1, np.int8)
    has_why = rng.random(n) < WHY_SHARE
    pick = rng.random(n)
    for m in range(3):
        options = np.array([i for i, w in enumerate(WHYS) if w[2] == m], np.int8)
        rows = has_why & (mood == m)
        why[rows] = options[(pick[rows] * len(options)).astype(np.int64)]
    feeling = np.array([w[1] for w in WHYS])[why]
    threshold = SurveySettings().negative_sentiment
    flagged = ((score <= 6) & ~csat) | ((why >= 0) & (feeling <= threshold))
    return Answers(at, survey, department, channel, touchpoint, score,
                   customer.astype(np.int32), why, flagged)  # fmt: skip


def expected_counts(a: Answers) -> Counts:
    """The counts per (department, month) of the NPS answers, straight from the arrays."""
    nps = np.isin(a.survey, [s[0] for s in SURVEYS if s[2] == "nps"])
    months = a.at[nps].astype("datetime64[us]").astype("datetime64[M]")
    first = months.min() if len(months) else np.datetime64("2000-01", "M")
    month = (months - first).astype(np.int64)
    width = int(month.max()) + 1 if len(month) else 1
    cell = (a.department[nps].astype(np.int64) + 1) * width + month
    score = a.score[nps]
    size = (len(DEPARTMENTS) + 1) * width
    n = np.bincount(cell, minlength=size)
    promoters = np.bincount(cell[score >= 9], minlength=size)
    passives = np.bincount(cell[(score >= 7) & (score <= 8)], minlength=size)
    out: Counts = {}
    for c in np.flatnonzero(n):
        d, m = divmod(int(c), width)
        label = str(first + np.timedelta64(m, "M"))
        key = (DEPARTMENTS[d - 1] if d else None, label)
        p, pa, total = int(promoters[c]), int(passives[c]), int(n[c])
        out[key] = (p, pa, total - p - pa, total)
    return out


# ---------------------------------------------------------------- loading


def lookup(values: Any) -> NDArray[Any]:
    """An object array whose index 0 is None and i + 1 is values[i] (for codes where -1 is
    none)."""
    return np.array([None, *values], dtype=object)


def band_names() -> list[str]:
    """The band of each (survey id, score), at survey id * 11 + score ('' where none)."""
    names = [""] * (11 * (max(s[0] for s in SURVEYS) + 1))
    for sid, _, kind, _, _ in SURVEYS:
        spec = kinds.spec(kind)
        for score in range(spec.low, spec.high + 1):
            names[sid * 11 + score] = kinds.band_of(kind, score)
    return names


def response_rows(a: Answers, sqlite: bool) -> Iterator[list[tuple[Any, ...]]]:
    """The answers as tuples for the driver, CHUNK at a time."""
    bands = np.array(band_names(), dtype=object)
    departments, touchpoints = lookup(DEPARTMENTS), lookup(t[0] for t in TOUCHPOINTS)
    whys, feelings = lookup(w[0] for w in WHYS), lookup(w[1] for w in WHYS)
    channels = np.array(CHANNELS, dtype=object)
    for start in range(0, len(a), CHUNK):
        part = slice(start, start + CHUNK)
        stamps = np.datetime_as_string(a.at[part].astype("datetime64[us]"), unit="us")
        stamps = np.strings.replace(stamps, "T", " ") if sqlite else np.strings.add(stamps, "Z")
        survey, score = a.survey[part].astype(np.int64), a.score[part].astype(np.int64)
        why = a.why[part] + 1
        count = len(survey)
        ids = range(start + 1, start + count + 1)
        yield list(
            zip(
                ids,
                survey.tolist(),
                a.customer[part].tolist(),
                [f"bench-{i:09d}" for i in ids],
                score.tolist(),
                bands[survey * 11 + score].tolist(),
                whys[why].tolist(),
                feelings[why].tolist(),
                a.flagged[part].tolist(),
                stamps.tolist(),
                departments[a.department[part] + 1].tolist(),
                channels[a.channel[part]].tolist(),
                touchpoints[a.touchpoint[part] + 1].tolist(),
                [False] * count,
                strict=True,
            )
        )


def customer_rows(stamp: Callable[[datetime], Any]) -> Iterator[list[tuple[Any, ...]]]:
    rng = np.random.default_rng(SEED + 1)
    ages = rng.uniform(0, 4 * 365, CUSTOMERS)
    for start in range(0, CUSTOMERS, CHUNK):
        rows = []
        for cid in range(start + 1, min(start + CHUNK, CUSTOMERS) + 1):
            created = stamp(NOW - timedelta(days=float(ages[cid - 1])))
            rows.append((cid, f"Customer {cid}", "{}", "{}", "{}", created, created))
        yield rows


def fill(conn: Connection, a: Answers, indexes: list[Index]) -> None:
    for index in indexes:  # built after the load, as a restore would
        index.drop(conn)
    conn.execute(
        insert(cast(Table, Survey.__table__)),
        [
            dict(id=sid, name=name, kind=kind, question=kinds.default_question(kind, "us"),
                 followups={}, department=department, created_at=START, updated_at=START)
            for sid, name, kind, department, _ in SURVEYS
        ],
    )  # fmt: skip
    sqlite = conn.dialect.name == "sqlite"
    for rows in customer_rows(sqlite_timestamp if sqlite else lambda moment: moment):
        insert_rows(conn, "customers", CUSTOMER_COLUMNS, rows)
    for rows in response_rows(a, sqlite):
        insert_rows(conn, "survey_responses", RESPONSE_COLUMNS, rows)


def load(db: str, engine: Engine, a: Answers) -> tuple[float, float, float, int]:
    """Load surveys, customers and answers; returns the seconds of the load, of the indexes
    and ANALYZE, of the rebuild of the counts, and the number of rolled-up rows."""
    upgrade(engine)
    responses_t = cast(Table, Response.__table__)
    indexes: list[Index] = sorted(responses_t.indexes, key=lambda i: str(i.name))
    start = time.perf_counter()
    with engine.connect() as conn:
        # the rows are known to be consistent: no per-row foreign-key checks while loading
        if db == "sqlite":  # (a pragma that is a no-op inside a transaction: set it before)
            driver(conn).execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if db == "postgresql":
                    conn.execute(text("SET LOCAL session_replication_role = replica"))
                fill(conn, a, indexes)
        finally:
            if db == "sqlite":
                driver(conn).execute("PRAGMA foreign_keys=ON")
    loaded = time.perf_counter()
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
    analyze(engine)
    indexed = time.perf_counter()
    with engine.begin() as conn:
        rolled_up = service.rebuild_counts(conn)
    analyze(engine, "survey_score_counts")
    rebuilt = time.perf_counter()
    return loaded - start, indexed - loaded, rebuilt - indexed, rolled_up


def analyze(engine: Engine, table: str = "") -> None:
    """What a database that is looked after has: statistics (on SQLite sampled, as `PRAGMA
    optimize` takes them; on PostgreSQL with the visibility map autovacuum keeps)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text(f"VACUUM ANALYZE {table}"))
        else:
            driver(conn).execute("PRAGMA analysis_limit = 1000")
            driver(conn).execute(f"ANALYZE {table}")


def load_duckdb(a: Answers) -> duckdb.DuckDBPyConnection:
    """The same rows in an in-memory DuckDB, read straight from the arrays."""
    con = duckdb.connect()
    con.execute("CREATE TABLE surveys (id BIGINT, name VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO surveys VALUES (?, ?, ?)", [s[:3] for s in SURVEYS])
    arrays = {
        "id": np.arange(1, len(a) + 1, dtype=np.int64),
        "moment": a.at.astype("datetime64[us]"),
        "survey": a.survey,
        "customer": a.customer,
        "score": a.score,
        "why": a.why,
        "flagged": a.flagged,
        "department": a.department,
        "channel": a.channel,
        "touchpoint": a.touchpoint,
    }
    con.register("answers", arrays)

    def listed(values: Any) -> str:
        return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"

    bands = listed(band_names())
    coded = "CASE WHEN {c} < 0 THEN NULL ELSE {values}[{c} + 1] END"
    con.execute(
        "CREATE TABLE survey_responses AS SELECT"
        " id, survey::BIGINT AS survey_id,"
        " customer::BIGINT AS customer_id, NULL::BIGINT AS invitation_id,"
        " 'bench-' || lpad(id::VARCHAR, 9, '0') AS message_id,"
        f" score::INTEGER AS score, {bands}[survey::INTEGER * 11 + score + 1] AS band,"
        f" {coded.format(c='why', values=listed(w[0] for w in WHYS))} AS why,"
        f" {coded.format(c='why', values=[w[1] for w in WHYS])}::DOUBLE AS sentiment,"
        " flagged, moment AS answered_at,"
        f" {coded.format(c='department', values=listed(DEPARTMENTS))} AS department,"
        f" {listed(CHANNELS)}[channel + 1] AS channel,"
        f" {coded.format(c='touchpoint', values=listed(t[0] for t in TOUCHPOINTS))}"
        " AS touchpoint, false AS themed FROM answers"
    )
    con.unregister("answers")
    return con


# ---------------------------------------------------------------- measuring


def best_of(work: Callable[[], Any], key: Callable[[Any], Any] = lambda x: x) -> tuple[float, Any]:
    answer = work()  # warm-up: caches and plans, as on a server that is running
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        again = work()
        times.append(time.perf_counter() - start)
        if key(again) != key(answer):
            raise RuntimeError("two runs of the same query disagree")
    return min(times), answer


def once(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    answer = work()
    return time.perf_counter() - start, answer


def counts_of_rows(rows: Any) -> Counts:
    return {
        (dept, month): (int(p), int(pa), int(d), int(n)) for dept, month, p, pa, d, n, *_ in rows
    }


def counts_of_report(got: dict[str, Any]) -> Counts:
    return {
        (g["department"], g["period"]): (g["promoters"], g["passives"], g["detractors"], g["n"])
        for g in got["groups"]
    }


def product_report(conn: Connection) -> dict[str, Any]:
    return report.report(conn, LIVE, by="department", period="month", now=NOW)


def same(what: str, got: Counts, expected: Counts) -> bool:
    if got == expected:
        return True
    keys = sorted(set(got) | set(expected), key=str)
    wrong = [k for k in keys if got.get(k) != expected.get(k)]
    print(f"FAIL: {what} differs from the generated answers in {len(wrong)} of {len(keys)}"
          " (department, month) cells:", flush=True)  # fmt: skip
    for k in wrong[:5]:
        print(f"  {k}: {got.get(k)} instead of {expected.get(k)}", flush=True)
    return False


@dataclass
class Outcome:
    db: str
    report: float
    plain: float
    rolled_up: int
    ok: bool


def line(db: str, what: str, figure: str, note: str = "") -> None:
    print(f"{db:<11}{what:<46}{figure:>12}  {note}", flush=True)


def run_database(db: str, a: Answers, expected: Counts, duck: float) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hxbench-nps-") as folder:
        pg = TemporaryPostgres().start() if db == "postgresql" else None
        try:
            url = pg.create_database("bench_nps") if pg else f"sqlite:///{Path(folder)}/nps.db"
            engine = make_engine(Settings(database_url=url, sqlite_synchronous="OFF"))
            try:
                return measure(db, engine, a, expected, duck)
            finally:
                engine.dispose()
        finally:
            if pg is not None:
                pg.stop()


def measure(db: str, engine: Engine, a: Answers, expected: Counts, duck: float) -> Outcome:
    loaded, indexed, rebuilt, rolled_up = load(db, engine, a)
    line(db, f"load {CUSTOMERS:,} customers, {len(a):,} answers", f"{loaded:.1f} s",
         f"{len(a) / loaded:,.0f} answers/s")  # fmt: skip
    line(db, "answers' indexes + ANALYZE", f"{indexed:.1f} s")
    share = f"1 per {len(a) / rolled_up:,.0f} answers" if rolled_up else ""
    line(db, f"rebuild_counts: {rolled_up:,} rolled-up rows", f"{rebuilt:.1f} s", share)
    with engine.connect() as conn:
        plain, rows = once(lambda: conn.execute(text(PLAIN[db])).all())
        line(db, "plain GROUP BY over the answers (once)", f"{plain:.2f} s",
             f"x{plain / duck:.1f} DuckDB")  # fmt: skip
        ours, got = best_of(lambda: product_report(conn))
    ok = same(f"{db} plain GROUP BY", counts_of_rows(rows), expected)
    ok &= same(f"{db} report", counts_of_report(got), expected)
    passed = ours < TARGET_SECONDS and ours <= duck
    line(db, "report(by=department, period=month)", f"{ours:.3f} s",
         f"x{ours / duck:.2f} DuckDB, x{plain / ours:,.0f} faster than the plain scan"
         f"  {'PASS' if passed else 'FAIL'} (< {TARGET_SECONDS:g} s, <= DuckDB)")  # fmt: skip
    if ok:
        line(db, f"counts: report = plain scan = generated ({len(got['groups'])} groups)", "same")
    whole = got["overall"]
    if whole["n"]:
        line(db, f"overall NPS {whole['nps']:.1f} ± {whole['margin_of_error']:.2f} points",
             f"n {whole['n']:,}")  # fmt: skip
    return Outcome(db, ours, plain, rolled_up, ok and passed)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="answers (10,000,000)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    began = time.perf_counter()
    print(
        f"HX Pulse NPS by department by month: {args.rows:,} answers from {CUSTOMERS:,} customers"
        f" over 36 months; best of {RUNS} warm runs; target < {TARGET_SECONDS:g} s and <= DuckDB"
        " over the raw rows"
    )
    seconds, a = once(lambda: generate(args.rows))
    expected = expected_counts(a)
    nps_answers = sum(c[3] for c in expected.values())
    line("numpy", f"generate {len(a):,} answers ({nps_answers:,} NPS)", f"{seconds:.1f} s",
         f"{len(expected)} (department, month) groups")  # fmt: skip
    seconds, duck_con = once(lambda: load_duckdb(a))
    line("duckdb", f"load {len(a):,} answers from the arrays", f"{seconds:.1f} s")
    duck, rows = best_of(lambda: duck_con.execute(DUCKDB).fetchall(), counts_of_rows)
    line("duckdb", "NPS by department by month, raw rows", f"{duck:.3f} s", "(the baseline)")
    ok = same("DuckDB", counts_of_rows(rows), expected)
    duck_con.close()
    outcomes = [
        run_database(db, a, expected, duck)
        for db in ("sqlite", "postgresql")
        if args.only in (None, db)
    ]
    print(f"\n{'database':<11}{'NPS by dept by month':>22}{'x DuckDB':>10}{'plain scan':>12}"
          f"{'rolled-up rows / answers':>28}  verdict")  # fmt: skip
    print(f"{'duckdb':<11}{duck:>20.3f} s{1:>10.2f}{'':>12}{'- / ' + format(len(a), ','):>28}"
          f"  {'(raw rows)' if ok else 'FAIL (counts)'}")  # fmt: skip
    for o in outcomes:
        print(f"{o.db:<11}{o.report:>20.3f} s{o.report / duck:>10.2f}{o.plain:>10.2f} s"
              f"{f'{o.rolled_up:,} / {len(a):,}':>28}  {'PASS' if o.ok else 'FAIL'}")  # fmt: skip
        ok &= o.ok
    print(f"total run time {time.perf_counter() - began:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
