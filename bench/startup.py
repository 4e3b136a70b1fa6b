"""Startup to first answer: from spawning the server to the first valid ``balance`` reply.

The clock starts just before the process is spawned and stops when a raw socket gets an
``HTTP 200`` whose JSON holds ``balance``; connection refusals in between are retried every
millisecond. Mock and bare alternate, N runs each, and the medians are compared.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Sequence

from bench.figures import Figure, Unit, median
from bench.panel import Secrets, bare_argv, mock_argv
from bench.procs import ServerError, free_port
from bench.settings import REPO, Settings

__all__ = ["first_answer", "is_balance_reply", "request_bytes", "run", "time_to_first_answer"]

_TIMEOUT = 60.0
_RETRY = 0.001


def request_bytes(host: str, port: int, body: str) -> bytes:
    """A complete ``POST /api/v2`` with a form ``body``, closing the connection after."""
    payload = body.encode("ascii")
    head = (
        f"POST /api/v2 HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + payload


def is_balance_reply(raw: bytes) -> bool:
    """Whether ``raw`` is an HTTP 200 response whose JSON body is an object with ``balance``."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if not sep or len(status_line) < 2 or status_line[1] != b"200":
        return False
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and "balance" in answer


def first_answer(host: str, port: int, request: bytes) -> bytes | None:
    """One exchange on a fresh connection; ``None`` while nothing listens yet."""
    try:
        with socket.create_connection((host, port), timeout=_TIMEOUT) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
    except (ConnectionRefusedError, ConnectionResetError):
        return None


def time_to_first_answer(argv: Sequence[str], port: int, body: str) -> float:
    """Seconds from spawning ``argv`` (listening on ``port``) to its first valid answer."""
    request = request_bytes("127.0.0.1", port, body)
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while time.perf_counter() - started < _TIMEOUT:
            raw = first_answer("127.0.0.1", port, request)
            if raw is not None:
                if not is_balance_reply(raw):
                    raise ServerError(f"the first answer was not a balance: {raw[:300]!r}")
                return time.perf_counter() - started
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise ServerError(f"the server exited with {process.returncode}: {error[-2000:]}")
            time.sleep(_RETRY)
        raise ServerError(f"no answer within {_TIMEOUT:g} s")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def run(settings: Settings) -> list[Figure]:
    keys = Secrets.fresh()
    mock_times, bare_times = [], []
    for _ in range(settings.startup_runs):
        port = free_port()
        mock_times.append(
            time_to_first_answer(
                mock_argv(settings, keys, port), port, f"key={keys.key}&action=balance"
            )
        )
        port = free_port()
        bare_times.append(
            time_to_first_answer(bare_argv(settings, port), port, "key=k&action=balance")
        )
    mock, bare = median(mock_times), median(bare_times)
    return [
        Figure(
            "startup.first-answer",
            "startup to first answer / bare",
            mock / bare,
            Unit.RATIO,
            None,
            f"{mock * 1000:.0f} vs {bare * 1000:.0f} ms, median of {settings.startup_runs}",
        )
    ]
