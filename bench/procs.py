"""Server processes of a bench: started pinned to a core, their URL read from what they print,
always stopped (SIGTERM, then SIGKILL) however the bench ends.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.settings import REPO

__all__ = ["Served", "ServerError", "free_port", "serve"]

_URL = re.compile(r"(http://[^\s/]+)(/api/v2)\b")
_START_TIMEOUT = 120.0  # a filled server places its orders before it listens
_STOP_TIMEOUT = 10.0


class ServerError(RuntimeError):
    """A server did not start, or died; the message carries the end of its error output."""


@dataclass(frozen=True, slots=True)
class Served:
    """A running server: its process and the URLs it announced."""

    process: subprocess.Popen[bytes]
    base_url: str  # http://host:port

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v2"

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port() -> int:
    """A TCP port that was free a moment ago (for a process that cannot report its own)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(log: IO[str]) -> str:
    log.seek(0)
    text = log.read().strip()
    return text[-2000:] if text else "(no error output)"


def _read_url(process: subprocess.Popen[bytes], log: IO[str], timeout: float) -> str:
    """The first ``http://host:port/api/v2`` the process prints, within ``timeout`` seconds.

    Reads the pipe's bytes as they come (a buffered ``readline`` could swallow the URL line
    into its buffer while ``select`` waits for more), and stops at the line carrying the URL.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise ServerError(f"the server exited with {process.wait()}: {_tail(log)}")
            seen += chunk
            if match := _URL.search(seen.decode("utf-8", "replace")):
                return match.group(1)
    raise ServerError(f"the server printed no URL within {timeout:g} s: {_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
    timeout: float = _START_TIMEOUT,
) -> Iterator[Served]:
    """Run ``argv`` (a server that prints its ``.../api/v2`` URL) for the ``with`` block.

    ``env`` is added to this process's environment: the way to hand a server a secret
    without putting it on a command line. ``cwd`` defaults to the repository, so
    ``python -m bench.<script>`` finds the ``bench`` package.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
        try:
            served = Served(process, _read_url(process, log, timeout))
            yield served
            if process.poll() is not None:
                raise ServerError(f"the server died during the bench: {_tail(log)}")
        finally:
            _stop(process)
            if process.stdout is not None:
                process.stdout.close()
