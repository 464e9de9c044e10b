"""The pulse key's log-add in SQL, so that the hot path adds a batch to each stored key in the
same single UPDATE as before (`pulse_key = pulse_key_add(pulse_key, ?)`), atomically.

`analytics.pulse.key_add` is the definition. SQLite runs it as a function registered on the
connection; PostgreSQL runs `pg_key_add`, the same steps written as one SQL expression (its
float8 functions are the C library's, like Python's), tested against the definition.
"""

from __future__ import annotations

from typing import Any

from hxpulse.analytics.pulse import LN2, LOG_FROM, key_add

KEY_ADD = "pulse_key_add"


def register_key_add(sqlite_connection: Any) -> None:
    """Make `pulse_key_add(a, b)` callable on a sqlite3 connection (cheap: call per batch)."""
    sqlite_connection.create_function(KEY_ADD, 2, key_add, deterministic=True)


def _log_abs(key: str) -> str:
    """ln|S| of a non-zero key."""
    return (f"(CASE WHEN abs({key}) > {LOG_FROM!r} THEN abs({key}) - {LN2!r}"
            f" ELSE ln(abs(sinh({key}))) END)")  # fmt: skip


def pg_key_add(a: str, b: str) -> str:
    """The SQL of `key_add(a, b)` for PostgreSQL; `a` and `b` are column references.

    Two logarithms of one sign (the common case: S_a, S_b beyond 2.4e8) add as
    ±(max + ln(1 + e^(−|Δ|))); two plain sums as asinh(sinh a + sinh b); otherwise, with m the
    larger ln|S|, the sum is e^m · s, s = ±1 ± e^(−|la − lb|), and its key ±(m + ln|s| + ln 2),
    or asinh(s · e^m) when cancellation brought it back among plain sums (then m < 57: e^m is
    finite). No exp() ever underflows (PostgreSQL raises on that): exponents stop at −700.
    """
    edge = f"{LOG_FROM!r}"
    la, lb = _log_abs(a), _log_abs(b)
    top = f"GREATEST({la}, {lb})"
    s = (f"(sign({a}) * exp(GREATEST({la} - {top}, -700.0))"
         f" + sign({b}) * exp(GREATEST({lb} - {top}, -700.0)))")  # fmt: skip
    log_sum = f"({top} + ln(abs({s})))"
    return (
        f"(CASE WHEN abs({a}) > {edge} AND abs({b}) > {edge} AND sign({a}) = sign({b})"
        f" THEN sign({a}) * (GREATEST(abs({a}), abs({b}))"
        f" + ln(1.0 + exp(GREATEST(-abs(abs({a}) - abs({b})), -700.0))))"
        f" WHEN abs({a}) <= {edge} AND abs({b}) <= {edge} THEN asinh(sinh({a}) + sinh({b}))"
        f" WHEN {a} = 0 THEN {b} WHEN {b} = 0 THEN {a}"
        f" WHEN {s} = 0 THEN 0.0"
        f" WHEN {log_sum} > {LOG_FROM - LN2!r} THEN sign({s}) * ({log_sum} + {LN2!r})"
        f" ELSE asinh({s} * exp({top})) END)"
    )
