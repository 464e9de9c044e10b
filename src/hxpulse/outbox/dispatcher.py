"""The dispatcher: claims due outbox rows, delivers each through its kind's handler, records
how it went, and runs the periodic jobs.

`run_once(now=...)` is one pass (claim, deliver, record) that tests drive with a frozen clock;
`start()` runs passes in a thread until `stop()`: it wakes at once when this process enqueued
something (`outbox.wake`), and otherwise polls every `outbox.poll_seconds`. Deliveries run on a
small thread pool, so that one slow receiver does not hold the others. Each pass claims only as
many rows as there are free threads, under a lease longer than any handler's timeout: a
crashed dispatcher's rows become claimable again when their leases run out.

Started, it also takes rows at the moment they are enqueued in this process (`wake.Taker`):
those are leased in the cause's own transaction, so no claim is written, and an ingest's
webhook goes out as soon as the ingest commits. How each try went is recorded by one
recorder thread, many tries to a transaction, so that delivery threads never wait for the
write lock (on SQLite, behind the ingests); until recorded a row stays leased, and a crash
before that means one more try (at least once either way).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.outbox import service, wake
from hxpulse.outbox.dispatch import Context, Handler, Job, Outcome, http_client

log = logging.getLogger("hxpulse.outbox")
Clock = Callable[[], datetime]
MAX_TRIES = 100  # the schedule makes ~15 in 72 hours; more means tries that never finished
RECORDS_PER_WRITE = 500


@dataclass(frozen=True, slots=True)
class _Record:
    """How one try went, waiting to be written."""

    claim: service.Claim
    outcome: Outcome
    error: str | None
    took: int  # milliseconds
    finished: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Deliver `engine`'s outbox with `handlers` and run `jobs` (defaults: `hxpulse.handlers`)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        handlers: Mapping[str, Handler] | None = None,
        jobs: tuple[tuple[str, float, Job], ...] | None = None,
        concurrency: int | None = None,
        clock: Clock = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        if handlers is None or jobs is None:
            from hxpulse import handlers as registry  # above the domains: imported late

            handlers = registry.HANDLERS if handlers is None else handlers
            jobs = registry.JOBS if jobs is None else jobs
        self.engine, self.settings, self.handlers, self.jobs = engine, settings, handlers, jobs
        self.concurrency = concurrency or settings.outbox.concurrency
        self.clock, self.rng = clock, rng or random.Random()
        self.retry = service.Retry(
            settings.outbox.retry_seconds, timedelta(hours=settings.outbox.max_age_hours)
        )
        self.lease = timedelta(seconds=settings.outbox.lease_seconds)
        self.wakeup = wake.Wakeup()
        self.http = http_client(settings.webhooks.timeout_seconds)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="hxpulse-deliver")
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unwatch: Callable[[], None] | None = None
        self._jobs_due: dict[str, float] = {}
        self._jobs_running: set[str] = set()
        self._handed: list[service.Claim] = []  # taken at enqueue, not yet checked
        self._active: set[int] = set()  # rows being delivered or waiting for a thread
        self._records: queue.SimpleQueue[_Record | None] | None = None
        self._recorder: threading.Thread | None = None

    # -- one pass, for tests and the loop ------------------------------------------------

    def run_once(self, *, now: datetime | None = None, wait: bool = True) -> int:
        """Claim what is due at `now` (up to the free threads) and deliver it; with `wait`,
        return after those deliveries were recorded. Return how many rows were claimed."""
        with self._lock:
            free = self.concurrency - self._in_flight
        if free <= 0:
            return 0
        moment = now or self.clock()
        with self.engine.connect() as conn:
            if not service.has_due(conn, now=moment):
                return 0
        claims = run_write(  # leases and records need no fsync: at least once either way
            self.engine,
            lambda conn: service.claim(conn, limit=free, lease=self.lease, now=moment),
            durable=False,
        )
        futures = [self._submit(claim, now) for claim in claims]
        if wait:
            for future in futures:
                future.result()
        return len(claims)

    def _submit(self, claim: service.Claim, now: datetime | None) -> Future[None]:
        with self._lock:
            self._in_flight += 1
            self._active.add(claim.delivery.id)
        return self._pool.submit(self._deliver, claim, now)

    # -- rows taken at enqueue (wake.Taker) -----------------------------------------------

    def room(self) -> int:
        """How many rows being enqueued now this dispatcher would take (twice its threads
        at most, so that a burst waits a moment in the pool rather than for a claim)."""
        if self._stopping.is_set():
            return 0
        with self._lock:
            return max(0, 2 * self.concurrency - self._in_flight - len(self._handed))

    def take(self, claims: list[service.Claim]) -> None:
        """Rows leased to this dispatcher by `enqueue`, handed over when their transaction
        ended (from the check-in hook: quick, no database)."""
        with self._lock:
            self._handed.extend(claims)
        self.wakeup.notify()

    def take_handed(self) -> int:
        """Deliver the rows handed over whose transaction committed (checked with one read:
        the row is there, pending, under the very lease); return how many were started."""
        with self._lock:
            handed, self._handed = self._handed, []
            handed = [c for c in handed if c.delivery.id not in self._active]
        if not handed:
            return 0
        with self.engine.connect() as conn:
            ready = service.still_leased(conn, list({c.delivery.id: c for c in handed}.values()))
        for claim in ready:
            self._submit(claim, None)
        return len(ready)

    def _deliver(self, claim: service.Claim, now: datetime | None) -> None:
        delivery = claim.delivery
        recorded = False
        try:
            begun = now or self.clock()
            if claim.lease_until - begun < self.lease / 2:  # waited too long for a thread:
                return  # the lease may run out mid-try; the row is claimed again after it
            handler = self.handlers.get(delivery.kind)
            error: str | None = None
            started = time.perf_counter()
            if handler is None:
                outcome = Outcome(False, final=True)
                error = f"no handler for the kind {delivery.kind!r}"
            elif delivery.attempt > MAX_TRIES:  # e.g. a row whose delivery kills its worker
                outcome = Outcome(False, final=True)
                error = f"claimed {delivery.attempt} times without an outcome recorded"
            else:
                context = Context(self.engine, self.settings, begun, self.http)
                try:
                    outcome = handler(context, delivery)
                except Exception as exc:  # noqa: BLE001 - a handler's bug is a failed try
                    log.exception("outbox %s (%s): the handler failed", delivery.id, delivery.kind)
                    outcome, error = Outcome(False), f"{type(exc).__name__}: {exc}"
            took = int((time.perf_counter() - started) * 1000)
            record = _Record(claim, outcome, error, took, now or self.clock())
            if self._records is not None:
                self._records.put(record)  # the recorder writes it, with others
                recorded = True
            else:
                self._record([record])
        except Exception:  # noqa: BLE001 - the lease runs out and the row is tried again
            log.exception("outbox %s: recording the try failed", delivery.id)
        finally:
            with self._lock:
                self._in_flight -= 1
                if not recorded:
                    self._active.discard(delivery.id)
            self.wakeup.notify()  # a thread is free: claim more

    def _record(self, records: list[_Record]) -> None:
        """Write how these tries went, in one transaction (each one alone if that fails)."""

        def write(conn: Connection, *, batch: list[_Record]) -> list[str | None]:
            return [service.finish(conn, r.claim, r.outcome, retry=self.retry, now=r.finished,
                                   duration_ms=r.took, error=r.error, rng=self.rng)
                    for r in batch]  # fmt: skip

        try:  # leases and records need no fsync: at least once either way
            statuses = run_write(self.engine, partial(write, batch=records), durable=False)
        except Exception:  # noqa: BLE001 - one at a time, so that one bad record sinks none
            if len(records) == 1:
                raise
            statuses = []
            for r in records:
                try:
                    statuses += run_write(self.engine, partial(write, batch=[r]), durable=False)
                except Exception:  # noqa: BLE001 - its lease runs out: it is tried again
                    log.exception("outbox %s: recording the try failed", r.claim.delivery.id)
                    statuses.append(None)
        for r, status in zip(records, statuses, strict=True):
            if status == "dead":
                log.warning("outbox %s (%s) is dead: %s", r.claim.delivery.id,
                            r.claim.delivery.kind,
                            r.error or r.outcome.response[:200] or r.outcome.status)  # fmt: skip

    def _recording(self, records: queue.SimpleQueue[_Record | None]) -> None:
        """The recorder thread: write what arrived, as many at once as are waiting."""
        done = False
        while not done:
            first = records.get()
            batch = [] if first is None else [first]
            done = first is None
            while len(batch) < RECORDS_PER_WRITE:
                try:
                    more = records.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                    continue
                batch.append(more)
            if not batch:
                continue
            try:
                self._record(batch)
            except Exception:  # noqa: BLE001 - their leases run out: they are tried again
                log.exception("outbox: recording %d tries failed", len(batch))
            with self._lock:
                self._active.difference_update(r.claim.delivery.id for r in batch)

    # -- jobs ------------------------------------------------------------------------------

    def run_jobs(self, *, now: datetime | None = None, wait: bool = False) -> list[str]:
        """Start the jobs whose interval has passed (one run of each at a time)."""
        started: list[str] = []
        tick = time.monotonic()
        for name, seconds, job in self.jobs:
            if name in self._jobs_running or self._jobs_due.get(name, 0.0) > tick:
                continue
            self._jobs_due[name] = tick + seconds
            self._jobs_running.add(name)
            future = self._pool.submit(self._job, name, job, now or self.clock())
            started.append(name)
            if wait:
                future.result()
        return started

    def _job(self, name: str, job: Job, now: datetime) -> None:
        try:
            job(Context(self.engine, self.settings, now, self.http))
        except Exception:  # noqa: BLE001 - logged; the job runs again on its interval
            log.exception("job %s failed", name)
        finally:
            self._jobs_running.discard(name)

    # -- the loop ------------------------------------------------------------------------

    def start(self) -> Dispatcher:
        """Run the dispatcher in a background thread (until `stop`)."""
        self._records = queue.SimpleQueue()
        self._recorder = threading.Thread(target=self._recording, args=(self._records,),
                                          name="hxpulse-recorder", daemon=True)  # fmt: skip
        self._recorder.start()
        self._unwatch = wake.watch(self.engine, self.wakeup, self)
        self._thread = threading.Thread(target=self.run, name="hxpulse-dispatcher", daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Claim and deliver until `stop` is called (the worker runs this in its main thread)."""
        poll = self.settings.outbox.poll_seconds
        log.info("dispatcher started: %d at once, polling every %.3fs", self.concurrency, poll)
        while not self._stopping.is_set():
            claimed = 0
            try:
                self.run_jobs()
                claimed = self.take_handed() + self.run_once(wait=False)
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again shortly
                log.exception("dispatcher pass failed")
                self._stopping.wait(min(poll * 20, 5.0))
            with self._lock:
                full = self._in_flight >= self.concurrency
            if full or not claimed:
                self.wakeup.wait(poll)

    def request_stop(self) -> None:
        """Ask the loop to stop claiming (safe in a signal handler)."""
        self._stopping.set()
        self.wakeup.notify()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming, let the deliveries under way finish, and release the threads."""
        self.request_stop()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._records is not None and self._recorder is not None:
            self._records.put(None)  # after the last try: the recorder writes all, then ends
            self._recorder.join(timeout)
            self._records = self._recorder = None
        self.http.close()
        log.info("dispatcher stopped")

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
