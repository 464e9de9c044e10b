"""Engine and transactions for SQLite (WAL, embedded) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

from hxpulse.config import Settings

T = TypeVar("T")
_WRITE_LOCKS: dict[int, threading.Lock] = {}
_SYNCHRONOUS: dict[int, str] = {}  # SQLite engines' durability setting
_RETRYABLE_PG = {"40001", "40P01", "23505"}  # serialization, deadlock, unique race


class RetryTransaction(Exception):
    """Raised inside a write transaction when a concurrent writer got there first."""


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(settings: Settings) -> Engine:
    """Build the engine for `settings.database_url`; nothing is connected yet."""
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _configure_sqlite(engine, settings.sqlite_synchronous)
        _SYNCHRONOUS[id(engine)] = settings.sqlite_synchronous
    else:
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            pool_size=10,
            max_overflow=20,
            pool_pre_ping=True,
        )
    _WRITE_LOCKS[id(engine)] = threading.Lock()
    return engine


def sqlite_pragmas(synchronous: str) -> tuple[str, ...]:
    """The settings every SQLite connection gets: WAL, durability, a 64 MB page cache."""
    return (
        "journal_mode=WAL",
        f"synchronous={synchronous}",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "cache_size=-65536",  # KiB: keeps the message-id and identity indexes in memory
        "temp_store=MEMORY",
        # copy the WAL back every 5,000 pages (20 MB), not 1,000: a page the live pulse
        # rewrites in batch after batch is copied once per checkpoint (the live path on 100,000
        # customers: 43.6 -> 37.0 µs an event)
        "wal_autocheckpoint=5000",
    )


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in sqlite_pragmas(synchronous):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("hx_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


@contextmanager
def write(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """Open a write transaction: committed on success, rolled back on error.

    On SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE) and writers in
    this process queue on a lock instead of polling the database file. `durable=False` commits
    without waiting for the disk (WAL with `synchronous=NORMAL`: a power loss may undo the
    last such commits, never corrupt the file), for bookkeeping that is safe to lose, such as
    the outbox's leases and delivery records (at least once either way); on PostgreSQL the
    transaction runs with `synchronous_commit` off.
    """
    lock = _WRITE_LOCKS.get(id(engine)) if is_sqlite(engine) else None
    relaxed = not durable and lock is not None and _SYNCHRONOUS.get(id(engine)) == "FULL"
    if lock is not None:
        lock.acquire()
    try:
        with engine.connect().execution_options(hx_write=True) as conn:
            if relaxed:  # outside a transaction (SQLite refuses it inside), not autobegun
                _driver(conn).execute("PRAGMA synchronous=NORMAL")
            try:
                with conn.begin():
                    if not durable and lock is None:  # PostgreSQL: the same, per transaction
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield conn
            finally:
                if relaxed:
                    _driver(conn).execute("PRAGMA synchronous=FULL")
    finally:
        if lock is not None:
            lock.release()


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryTransaction):
        return True
    # the driver's own errors (raw bulk paths) carry sqlstate; SQLAlchemy's wrap them in .orig
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(original, "sqlstate", None) in _RETRYABLE_PG:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def run_write(
    engine: Engine, work: Callable[[Connection], T], *, attempts: int = 20, durable: bool = True
) -> T:
    """Run `work` in a write transaction, retrying when a concurrent writer conflicts."""
    for attempt in range(attempts):
        try:
            with write(engine, durable=durable) as conn:
                return work(conn)
        except Exception as exc:  # noqa: BLE001 - filtered just below
            if not _is_retryable(exc) or attempt == attempts - 1:
                raise
            time.sleep(min(0.002 * 2**attempt, 0.2))
    raise AssertionError("unreachable")
