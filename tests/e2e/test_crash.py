"""SIGKILL the server while 4 clients send batches: no acknowledged event is lost or doubled."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from tests.e2e.conftest import RunningServer

THREADS = 4
PER_BATCH = 50
MAX_BATCHES_PER_THREAD = 400  # bound on count
SEND_DEADLINE = 20.0  # bound on time (seconds) for the senders
KILL_AFTER = 1.5


@dataclass
class Sent:
    """One batch request and how it ended: an HTTP status, or the exception's name."""

    batch_id: str
    message_ids: list[str]
    status: int | None = None
    error: str | None = None


def batch(thread: int, seq: int) -> tuple[str, dict[str, object]]:
    batch_id = f"crash-{thread}-{seq:04d}"
    messages = []
    for j in range(PER_BATCH):
        n = seq * PER_BATCH + j
        message = {"type": "track", "messageId": f"{batch_id}-{j:02d}", "event": "Order Completed",
                   "userId": f"crash-user-{(n * 7 + thread) % 40}",  # shared by the threads
                   "properties": {"revenue": 1.0 + j, "currency": "usd"},
                   "timestamp": "2026-02-01T10:00:00Z"}  # fmt: skip
        if j % 10 == 0:  # some identifies, so that identities are created while we kill
            message = {"type": "identify", "messageId": f"{batch_id}-{j:02d}",
                       "userId": f"crash-user-{(n + thread) % 40}",
                       "anonymousId": f"crash-anon-{thread}-{seq}-{j}",
                       "traits": {"email": f"crash{(n + thread) % 40}@example.com"}}  # fmt: skip
        messages.append(message)
    return batch_id, {"batch": messages, "sentAt": "2026-02-01T10:00:01Z"}


def sender(
    server_url: str, write_key: str, thread: int, stop: threading.Event, out: list[Sent]
) -> None:
    deadline = time.monotonic() + SEND_DEADLINE
    with httpx.Client(base_url=server_url, auth=(write_key, ""), timeout=10.0) as client:
        for seq in range(MAX_BATCHES_PER_THREAD):
            if stop.is_set() or time.monotonic() > deadline:
                return
            batch_id, body = batch(thread, seq)
            ids = [str(m["messageId"]) for m in body["batch"]]  # type: ignore[attr-defined]
            sent = Sent(batch_id, ids)
            out.append(sent)
            try:
                sent.status = client.post("/v1/batch", json=body).status_code
            except httpx.HTTPError as exc:
                sent.error = type(exc).__name__
                time.sleep(0.05)  # the server is gone: do not spin


def stored(server: RunningServer) -> Counter[str]:
    with server.engine.connect() as conn:
        rows = conn.execute(text("SELECT message_id FROM events WHERE message_id LIKE 'crash-%'"))
        return Counter(row[0] for row in rows)


def test_sigkill_loses_no_acknowledged_event_and_stores_none_twice(server: RunningServer) -> None:
    stop = threading.Event()
    results: list[list[Sent]] = [[] for _ in range(THREADS)]
    threads = [
        threading.Thread(target=sender, args=(server.url, server.write_key, t, stop, results[t]))
        for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(KILL_AFTER)
        # make sure the kill lands while requests are being answered (bounded wait)
        waited = time.monotonic() + 5.0
        while (
            time.monotonic() < waited
            and sum(s.status == 200 for r in results for s in list(r)) < THREADS
        ):
            time.sleep(0.05)
        server.process.kill()
        killed_at = time.monotonic()
        # let every sender see the dead server at least once (bounded wait)
        while time.monotonic() < killed_at + 5.0 and not all(
            r and r[-1].error is not None for r in results
        ):
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    assert not any(thread.is_alive() for thread in threads), "a sender did not stop"

    sent = [s for r in results for s in r]
    acked = [s for s in sent if s.status == 200]
    unexpected = [s for s in sent if s.status not in (200, None)]
    failed = [s for s in sent if s.error is not None]
    assert not unexpected, f"statuses other than 200: {unexpected[:3]}\n{server.log_tail()}"
    assert len(acked) >= THREADS, "the server answered too few batches before the kill"
    assert failed, "no request failed: the kill did not happen while clients were sending"

    server.restart()

    after_restart = stored(server)
    sent_ids = {mid for s in sent for mid in s.message_ids}
    assert set(after_restart) <= sent_ids
    duplicates = {mid: n for mid, n in after_restart.items() if n > 1}
    assert not duplicates, f"stored twice: {sorted(duplicates)[:5]}"
    lost = [mid for s in acked for mid in s.message_ids if mid not in after_restart]
    assert not lost, f"{len(lost)} acknowledged events lost, e.g. {lost[:5]}"
    for s in sent:  # one batch is one transaction: all of it is stored, or none of it
        present = sum(mid in after_restart for mid in s.message_ids)
        assert present in (0, PER_BATCH), f"{s.batch_id}: {present} of {PER_BATCH} stored"

    # the clients retry what was not acknowledged, and one batch that was: each event once
    retried = [s for s in sent if s.status != 200] + acked[:1]
    with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=30) as client:
        for s in retried:
            thread_no, seq = (int(x) for x in s.batch_id.split("-")[1:])
            response = client.post("/v1/batch", json=batch(thread_no, seq)[1])
            assert response.status_code == 200, response.text
            answer = response.json()
            assert answer["stored"] + answer["duplicates"] == PER_BATCH
            if s.status == 200:
                assert answer["duplicates"] == PER_BATCH
    final = stored(server)
    assert set(final) == sent_ids
    assert max(final.values()) == 1
    assert sum(final.values()) == len(sent) * PER_BATCH
