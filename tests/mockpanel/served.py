"""Run ``python -m mockpanel serve --port 0 ...`` as a user would, for tests that need the real
process (the CLI tests, the kill -9 durability test): start it, wait for its banner, read the
URL it announced, stop it with a signal or kill it outright."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import pytest

# Safety nets only (never asserted on): a wedged subprocess must not hang the suite.
_STARTUP_LIMIT = 60.0
_EXIT_LIMIT = 30.0


class Served:
    """A running ``python -m mockpanel serve --port 0 ...`` and everything it printed."""

    def __init__(self, options: tuple[str, ...]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockpanel", "serve", "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._banner = threading.Event()
        assert self.process.stdout is not None
        self._pump = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._pump.start()
        self.stderr = ""

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                self._banner.set()
        self._banner.set()  # EOF: the process ended (or failed to start)

    def wait_ready(self) -> None:
        if not self._banner.wait(_STARTUP_LIMIT) or self.process.poll() is not None:
            self.stop(signal.SIGTERM)
            pytest.fail(f"mockpanel did not start: {self.lines} {self.stderr}")

    @property
    def stdout(self) -> str:
        return "\n".join(self.lines)

    def field(self, label: str) -> str:
        match = re.search(rf"^  {label}:\s+(\S+)", self.stdout, re.MULTILINE)
        assert match is not None, f"no {label!r} line in {self.stdout!r}"
        return match.group(1)

    @property
    def url(self) -> str:
        return self.field("API URL")

    @property
    def base_url(self) -> str:
        return self.url.removesuffix("/api/v2")

    def stop(self, signum: int) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(_EXIT_LIMIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._pump.join()
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()
        self.process.stderr.close()
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash would: no cleanup runs in the server."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(_EXIT_LIMIT)
        self._pump.join()


@contextmanager
def served(*options: str) -> Iterator[Served]:
    server = Served(options)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop(signal.SIGTERM)
