"""Driving wrk: one POST body hammered for a fixed time, the result read from one JSON line.

``bench/post.lua`` takes the body and headers from the environment (never the command line)
and prints ``BENCH-RESULT {json}`` when wrk is done; :func:`parse_result` reads that line.
A run with any socket error, timeout or HTTP error status is refused rather than reported:
a throughput figure made of failures is not a throughput figure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.settings import Pinning

__all__ = [
    "FORM",
    "INSTALL_HINT",
    "JSON_TYPE",
    "Load",
    "WrkError",
    "WrkMissing",
    "WrkResult",
    "find_wrk",
    "parse_result",
    "run_wrk",
]

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
SCRIPT = Path(__file__).resolve().parent / "post.lua"
INSTALL_HINT = "install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"
_MARKER = "BENCH-RESULT "
_FIELDS = (
    "requests",
    "duration_us",
    "connect_errors",
    "read_errors",
    "write_errors",
    "status_errors",
    "timeouts",
    "p50_us",
    "p99_us",
    "max_us",
)


class WrkMissing(RuntimeError):
    """wrk is not installed."""


class WrkError(RuntimeError):
    """wrk failed, printed no result, or the run had errors."""


@dataclass(frozen=True, slots=True)
class Load:
    """What every wrk connection sends: one POST body with its headers."""

    body: str
    content_type: str = FORM
    authorization: str | None = None

    def environment(self) -> dict[str, str]:
        env = {"BENCH_BODY": self.body, "BENCH_CONTENT_TYPE": self.content_type}
        if self.authorization is not None:
            env["BENCH_AUTHORIZATION"] = self.authorization
        return env


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One wrk run, as its ``done`` hook reported it (times in microseconds)."""

    requests: int
    duration_us: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    timeouts: int
    p50_us: int
    p99_us: int
    max_us: int

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / (self.duration_us / 1e6)

    @property
    def errors(self) -> int:
        return (
            self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.status_errors
            + self.timeouts
        )


def find_wrk() -> str:
    """The wrk executable, or :class:`WrkMissing` saying how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(f"wrk is not installed; {INSTALL_HINT}")
    return path


def parse_result(output: str) -> WrkResult:
    """The result line ``post.lua`` printed, or :class:`WrkError` when there is none."""
    for line in output.splitlines():
        if line.startswith(_MARKER):
            try:
                data = json.loads(line[len(_MARKER) :])
                values = {name: int(data[name]) for name in _FIELDS}
            except (ValueError, KeyError, TypeError) as exc:
                raise WrkError(f"unreadable wrk result line {line!r}: {exc}") from None
            if values["duration_us"] <= 0:
                raise WrkError(f"wrk reported a non-positive duration in {line!r}")
            return WrkResult(**values)
    raise WrkError(f"wrk printed no result line; its output was:\n{output.strip()[-2000:]}")


def run_wrk(
    url: str,
    load: Load,
    *,
    duration: int,
    connections: int,
    pinning: Pinning,
    threads: int = 1,
) -> WrkResult:
    """Run wrk against ``url`` for ``duration`` seconds on the client core; refuse any errors."""
    command = [
        *pinning.client(),
        find_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, **load.environment()},
        timeout=duration + 60,
        check=False,
    )
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {(done.stderr or done.stdout)[-2000:]}")
    result = parse_result(done.stdout)
    if result.errors:
        raise WrkError(
            f"wrk saw errors against {url}: {result.connect_errors} connect, "
            f"{result.read_errors} read, {result.write_errors} write, "
            f"{result.status_errors} HTTP status >= 400, {result.timeouts} timeouts"
        )
    if result.requests == 0:
        raise WrkError(f"wrk completed no request against {url}")
    return result
