"""A real webhook receiver on 127.0.0.1: verifies every request with the `standardwebhooks`
package, answers what a test tells it, and counts receipts and overlaps per `webhook-id`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook


@dataclass
class Receipt:
    id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int


@dataclass
class Receiver:
    """What arrived, and how to answer: `status` (200), `hold` (block until set)."""

    url: str = ""
    secrets: list[str] = field(default_factory=list)
    status: int = 200
    hold: threading.Event | None = None
    delay: float = 0.0  # seconds to take over each answer
    receipts: list[Receipt] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)
    overlaps: list[str] = field(default_factory=list)  # ids seen twice at once
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except Exception:  # noqa: BLE001, S112 - try the next secret
                continue
        return False

    def delivered(self) -> Counter[str]:
        """Verified 2xx receipts per webhook-id."""
        return Counter(r.id for r in self.receipts if r.verified and 200 <= r.status < 300)

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until `count` verified 2xx receipts arrived."""
        with self.arrived:
            return self.arrived.wait_for(
                lambda: sum(self.delivered().values()) >= count, timeout=timeout
            )


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            msg_id = headers.get("webhook-id", "")
            with receiver.arrived:
                receiver.in_flight[msg_id] += 1
                if receiver.in_flight[msg_id] > 1:
                    receiver.overlaps.append(msg_id)
            try:
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.status
                verified = receiver.verify(body, headers)
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            finally:
                with receiver.arrived:
                    receiver.in_flight[msg_id] -= 1
                    receiver.receipts.append(Receipt(msg_id, headers, body, verified, status))
                    receiver.arrived.notify_all()

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


class Server:
    """The receiver's HTTP server: `down()` refuses connections, `up()` serves again on the
    same port."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver, self.port = receiver, 0
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.receiver))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.receiver.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver_server() -> Iterator[Server]:
    server = Server(Receiver())
    server.up()
    yield server
    if server.receiver.hold is not None:
        server.receiver.hold.set()
    server.down()


@pytest.fixture
def receiver(receiver_server: Server) -> Receiver:
    return receiver_server.receiver
