"""An unexpected error answers 500 with `Connection: close`, so that a keep-alive client's next
request goes out on a new connection instead of into the one the server drops. Tested against
a real uvicorn server (in a thread, with a route that fails added by the test) and a real
keep-alive client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from hxpulse.app import create_app
from hxpulse.config import Settings
from hxpulse.testing.postgres import free_port


@pytest.fixture
def failing_server(tmp_path: Path) -> Iterator[str]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", environment="test"))

    @app.get("/api/test-only-failure")
    def fail() -> None:
        raise RuntimeError("a bug, provoked by the test")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_500_closes_the_connection_cleanly(failing_server: str) -> None:
    with httpx.Client(base_url=failing_server, timeout=5) as client:
        for page in range(30):
            failed = client.get("/api/test-only-failure")
            assert failed.status_code == 500
            assert failed.headers["connection"] == "close"
            assert failed.json()["message"] == "internal error; see the log"
            # the very next request on the same client must not meet a dropped connection
            assert client.get("/healthz").status_code == 200, page
            assert client.post("/v1/batch", content=b"{}").status_code == 401


def test_a_client_that_leaves_mid_body_is_no_server_error(
    failing_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A sender that hangs up halfway through its body is not logged as a 500 with a traceback,
    and the server goes on answering."""

    host, port = failing_server.removeprefix("http://").split(":")
    with caplog.at_level("ERROR", logger="hxpulse"):
        for _ in range(3):
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                # no key in the headers: the tracking API reads the body for its writeKey
                raw.sendall(
                    b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                    b'Content-Type: application/json\r\n\r\n{"writeKey": "hxw_'
                )
        with httpx.Client(base_url=failing_server, timeout=5) as client:
            assert client.get("/healthz").status_code == 200
        time.sleep(0.3)  # let the server notice the closed sockets
    assert [r for r in caplog.records if "unexpected error" in r.getMessage()] == []
