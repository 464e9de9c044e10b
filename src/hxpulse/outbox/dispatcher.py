"""The dispatcher: claims due outbox rows, delivers each through its kind's handler, records
how it went, and runs the periodic jobs.

`run_once(now=...)` is one pass (claim, deliver, record) that tests drive with a frozen clock;
`start()` runs passes in a thread until `stop()`: it wakes at once when this process enqueued
something (`outbox.wake`), and otherwise polls every `outbox.poll_seconds`. Deliveries run on a
small thread pool, so that one slow receiver does not hold the others. Each pass claims only as
many rows as there are free threads, under a lease longer than any handler's timeout: a
crashed dispatcher's rows become claimable again when their leases run out.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.outbox import service, wake
from hxpulse.outbox.dispatch import Context, Handler, Job, Outcome, http_client

log = logging.getLogger("hxpulse.outbox")
Clock = Callable[[], datetime]
MAX_TRIES = 100  # the schedule makes ~15 in 72 hours; more means tries that never finished


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
        return self._pool.submit(self._deliver, claim, now)

    def _deliver(self, claim: service.Claim, now: datetime | None) -> None:
        delivery = claim.delivery
        try:
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
                context = Context(self.engine, self.settings, now or self.clock(), self.http)
                try:
                    outcome = handler(context, delivery)
                except Exception as exc:  # noqa: BLE001 - a handler's bug is a failed try
                    log.exception("outbox %s (%s): the handler failed", delivery.id, delivery.kind)
                    outcome, error = Outcome(False), f"{type(exc).__name__}: {exc}"
            took = int((time.perf_counter() - started) * 1000)
            finished = now or self.clock()
            status = run_write(
                self.engine,
                lambda conn: service.finish(conn, claim, outcome, retry=self.retry, now=finished,
                                            duration_ms=took, error=error, rng=self.rng),
                durable=False,
            )  # fmt: skip
            if status == "dead":
                log.warning("outbox %s (%s) is dead: %s", delivery.id, delivery.kind,
                            error or outcome.response[:200] or outcome.status)  # fmt: skip
        except Exception:  # noqa: BLE001 - the lease runs out and the row is tried again
            log.exception("outbox %s: recording the try failed", delivery.id)
        finally:
            with self._lock:
                self._in_flight -= 1
            self.wakeup.notify()  # a thread is free: claim more

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
        self._unwatch = wake.watch(self.engine, self.wakeup)
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
                claimed = self.run_once(wait=False)
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
        self.http.close()
        log.info("dispatcher stopped")

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
