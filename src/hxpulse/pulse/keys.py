"""The pulse key's log-add in SQL, so that the hot path adds a batch to each stored key in the
same single UPDATE as before (`pulse_key = key_add(pulse_key, ?)`), atomically.

`analytics.pulse.key_add` is the definition; `key_add_sql` writes the same steps as one SQL
expression, for PostgreSQL and for SQLite built with its math functions (asinh, sinh, ln, exp:
the C library's, like Python's). An SQLite without them gets the definition itself registered
as a function on the connection (2 µs a row instead of 0.3). All are tested against it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from functools import cache
from typing import Any

from hxpulse.analytics.pulse import LN2, LOG_FROM, key_add

KEY_ADD = "pulse_key_add"  # the registered function's name, on an SQLite without math


def register_key_add(sqlite_connection: Any) -> None:
    """Make `pulse_key_add(a, b)` callable on a sqlite3 connection (cheap: call per batch)."""
    sqlite_connection.create_function(KEY_ADD, 2, key_add, deterministic=True)


@cache
def sqlite_has_math() -> bool:
    """Whether the SQLite library has its math functions (a property of how it was built)."""
    with closing(sqlite3.connect(":memory:")) as probe:
        try:
            probe.execute("SELECT asinh(1.0), sinh(1.0), ln(2.0), exp(1.0), sign(-1.0)")
        except sqlite3.OperationalError:
            return False
    return True


def _log_abs(key: str) -> str:
    """ln|S| of a non-zero key."""
    return (f"(CASE WHEN abs({key}) > {LOG_FROM!r} THEN abs({key}) - {LN2!r}"
            f" ELSE ln(abs(sinh({key}))) END)")  # fmt: skip


def pg_key_add(a: str, b: str) -> str:
    """The SQL of `key_add(a, b)` for PostgreSQL."""
    return key_add_sql(a, b, greatest="GREATEST")


def sqlite_key_add(a: str, b: str) -> str:
    """The SQL of `key_add(a, b)` for SQLite: its math functions, else the registered one."""
    return key_add_sql(a, b, greatest="max") if sqlite_has_math() else f"{KEY_ADD}({a}, {b})"


def key_add_sql(a: str, b: str, *, greatest: str) -> str:
    """The SQL of `key_add(a, b)`; `a` and `b` are columns or parameters, `greatest` the name
    of the two-argument maximum (GREATEST on PostgreSQL, max on SQLite).

    Two logarithms (|S| beyond 2.4e8, |key| > 20) of one sign add as ±(max + ln(1 + e^(−|Δ|)))
    (the common case), of opposite signs as ±M, M = max + ln(1 − e^(−|Δ|)), or asinh(±e^(M −
    ln 2)) when cancellation brought the sum back among plain ones; two plain sums as asinh(sinh
    a + sinh b); otherwise (one of each), with m the larger ln|S|, the sum is e^m · s, s = ±1 ±
    e^(−|la − lb|), and its key ±(m + ln|s| + ln 2), or asinh(s · e^m) (then m < 57: e^m is
    finite). No exp() ever underflows (PostgreSQL raises on that): exponents stop at −700.
    """
    edge = f"{LOG_FROM!r}"
    la, lb = _log_abs(a), _log_abs(b)
    top = f"{greatest}({la}, {lb})"
    s = (f"(sign({a}) * exp({greatest}({la} - {top}, -700.0))"
         f" + sign({b}) * exp({greatest}({lb} - {top}, -700.0)))")  # fmt: skip
    log_sum = f"({top} + ln(abs({s})))"
    near = f"ln(1.0 + exp({greatest}(-abs({a} - {b}), -700.0)))"
    apart = (f"({greatest}(abs({a}), abs({b}))"
             f" + ln(1.0 - exp({greatest}(-abs(abs({a}) - abs({b})), -700.0))))")  # fmt: skip
    return (
        f"(CASE WHEN {a} > {edge} AND {b} > {edge} THEN {greatest}({a}, {b}) + {near}"
        f" WHEN {a} < -{edge} AND {b} < -{edge} THEN -{greatest}(-{a}, -{b}) - {near}"
        f" WHEN abs({a}) <= {edge} AND abs({b}) <= {edge} THEN asinh(sinh({a}) + sinh({b}))"
        f" WHEN {a} + {b} = 0 THEN 0.0"
        f" WHEN abs({a}) > {edge} AND abs({b}) > {edge} THEN CASE WHEN {apart} > {edge}"
        f" THEN sign({a} + {b}) * {apart} ELSE asinh(sign({a} + {b}) * exp({apart} - {LN2!r}))"
        " END"
        f" WHEN {a} = 0 THEN {b} WHEN {b} = 0 THEN {a}"
        f" WHEN {s} = 0 THEN 0.0"
        f" WHEN {log_sum} > {LOG_FROM - LN2!r} THEN sign({s}) * ({log_sum} + {LN2!r})"
        f" ELSE asinh({s} * exp({top})) END)"
    )
