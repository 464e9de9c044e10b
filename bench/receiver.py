"""A webhook receiver on 127.0.0.1 for the benchmarks: notes when each delivery arrives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Keys = Callable[[dict[str, str], bytes], Iterable[str]]  # what a delivery names: its ids


class Arrivals:
    """The first arrival time (`time.perf_counter`) of each id."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()


def start(arrivals: Arrivals, keys: Keys) -> ThreadingHTTPServer:
    """Serve on a free port of 127.0.0.1 in a thread; every POST answers 200 at once."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            moment = time.perf_counter()
            headers = {k.lower(): v for k, v in self.headers.items()}
            with arrivals.lock:
                for key in keys(headers, body):
                    arrivals.at.setdefault(key, moment)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
