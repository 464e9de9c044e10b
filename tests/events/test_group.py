"""Group commit: concurrent requests share transactions, and each gets its own exact answer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from hxpulse.config import Live
from hxpulse.events.group import GroupCommit
from hxpulse.events.models import Event
from hxpulse.events.schemas import EventIn, IngestResult
from tests.conftest import T0


def batch(prefix: str, n: int, *, user: str = "u") -> list[EventIn]:
    return [EventIn(message_id=f"{prefix}-{i}", kind="track", type="page_view",
                    occurred_at=T0 + timedelta(seconds=i), identities=[("user_id", f"{user}{i % 5}")])
            for i in range(n)]  # fmt: skip


def run_concurrently(
    committer: GroupCommit, batches: list[list[EventIn]]
) -> list[IngestResult | BaseException]:
    results: list[IngestResult | BaseException] = [ValueError("not run")] * len(batches)
    start = threading.Barrier(len(batches))

    def send(i: int) -> None:
        start.wait()
        try:
            results[i] = committer.ingest(batches[i])
        except BaseException as exc:  # noqa: BLE001
            results[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_each_request_gets_its_own_counts(engine: Engine) -> None:
    committer = GroupCommit(engine, live=Live())
    batches = [batch(f"r{k}", 30) for k in range(10)] + [batch("r0", 30), batch("r1", 10)]
    results = run_concurrently(committer, batches)
    assert all(isinstance(r, IngestResult) for r in results)
    stored = [r.stored for r in results if isinstance(r, IngestResult)]
    assert sum(stored) == 300  # the resent r0 and r1 ids are stored once, by whoever came first
    assert [r.received for r in results if isinstance(r, IngestResult)] == [len(b) for b in batches]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Event.__table__)).scalar_one() == 300


def test_a_failing_request_does_not_sink_the_others(engine: Engine) -> None:
    committer = GroupCommit(engine, live=Live())
    bad = batch("bad", 3)
    bad[1].properties = {"not json": object()}
    results = run_concurrently(committer, [batch("a", 20), bad, batch("b", 20)])
    assert isinstance(results[1], TypeError)
    assert [r.stored for r in (results[0], results[2]) if isinstance(r, IngestResult)] == [20, 20]
    with engine.connect() as conn:
        ids = set(conn.execute(select(Event.__table__.c.message_id)).scalars())
    assert not any(i.startswith("bad-") for i in ids) and len(ids) == 40


@pytest.mark.parametrize("size", [1, 7])
def test_a_lone_request_is_committed_at_once(engine: Engine, size: int) -> None:
    result = GroupCommit(engine, live=Live()).ingest(batch("solo", size))
    assert (result.stored, result.duplicates) == (size, 0)
