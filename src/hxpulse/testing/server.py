"""Run `hxpulse serve` as a separate process on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hxpulse.testing.postgres import free_port


class ServerProcess:
    """`start()` returns once /healthz answers; `kill()` sends SIGKILL; `stop()` is gentle."""

    def __init__(self, database_url: str, *, port: int | None = None, log: Path | None = None):
        self.database_url = database_url
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = {**os.environ, "HXPULSE_DATABASE_URL": self.database_url}
        command = [sys.executable, "-m", "hxpulse", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port)]  # fmt: skip
        if self.log is None:
            self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)  # fmt: skip
        else:
            with self.log.open("ab") as out:  # the child keeps its own copy of the handle
                self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hxpulse serve exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"hxpulse serve did not answer on {self.url} within {timeout} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
