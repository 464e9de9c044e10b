"""`hxpulse worker` processes: one SIGKILLed mid-delivery loses nothing; several on
PostgreSQL never have one row in flight twice and deliver each row once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

import hxpulse
from hxpulse.config import Settings
from hxpulse.outbox import service as outbox
from tests.webhooks.helpers import endpoint, fan, local
from tests.webhooks.receiver import Receiver

SRC = Path(hxpulse.__file__).resolve().parents[1]
CONFIG = """
[outbox]
lease_seconds = 3
poll_seconds = 0.05
retry_seconds = [0.5]
[webhooks]
allow_private_networks = true
timeout_seconds = 2
"""


class Workers:
    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url
        self.procs: list[subprocess.Popen[bytes]] = []
        (folder / "hxpulse.toml").write_text(CONFIG)

    def start(self, concurrency: int = 4) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "hxpulse", "--db", self.url, "worker",
             "--concurrency", str(concurrency)],
            cwd=self.folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


@pytest.fixture
def workers(tmp_path: Path, settings: Settings, engine: Engine) -> Iterator[Workers]:
    folder = tmp_path / "workers"
    folder.mkdir()
    found = Workers(folder, settings.database_url)
    yield found
    found.stop_all()


def _statuses(engine: Engine) -> dict[str, tuple[str, int]]:
    o = outbox.outbox_t.c
    with engine.connect() as conn:
        rows = conn.execute(select(o.key, o.status, o.attempts)).all()
    return {r.key: (r.status, r.attempts) for r in rows}


def _until(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_delivery_loses_nothing(
    settings: Settings, engine: Engine, receiver: Receiver, workers: Workers
) -> None:
    receiver.secrets = [endpoint(engine, local(settings), receiver.url)["secret"]]
    receiver.hold = threading.Event()
    fan(engine, ["held"])
    first = workers.start()
    assert _until(lambda: receiver.in_flight["held:ops"] == 1, 30), "the delivery never began"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    held, receiver.hold = receiver.hold, None
    held.set()  # the receiver answers a connection no one listens to any more
    assert _statuses(engine)["held:ops"] == ("pending", 1)
    workers.start()  # another worker takes the row once its lease ran out
    assert _until(lambda: _statuses(engine)["held:ops"][0] == "done", 30)
    assert _statuses(engine)["held:ops"] == ("done", 2)
    assert receiver.delivered()["held:ops"] >= 1
    assert receiver.receipts[-1].verified and receiver.receipts[-1].id == "held:ops"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SKIP LOCKED's case
def test_several_workers_on_postgresql_never_deliver_one_row_twice(
    settings: Settings, engine: Engine, receiver: Receiver, workers: Workers
) -> None:
    receiver.secrets = [endpoint(engine, local(settings), receiver.url)["secret"]]
    receiver.delay = 0.005
    keys = [f"row-{n}" for n in range(300)]
    for _ in range(3):
        workers.start(concurrency=4)
    fan(engine, keys)
    assert receiver.wait_for(len(keys), timeout=90)
    time.sleep(0.5)
    assert receiver.overlaps == []
    assert receiver.delivered() == {f"{k}:ops": 1 for k in keys}
    assert set(_statuses(engine).values()) == {("done", 1)}
