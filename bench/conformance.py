"""Wall time of the full conformance suite against the mock, serial and with ``-n 2``.

Each run gets a fresh ``mockpanel serve`` on the server core and runs ``pytest --panel-url ...
--panel-control-url .../_mock --panel-max-spend 5`` from an empty temporary directory (so only
the shipped suite is collected); the key and the control token go through the harness's
``PANEL_KEY`` / ``PANEL_CONTROL_TOKEN`` environment variables, not the command line. Three runs:
the command as a user types it (the harness's default politeness: none to speak of for a
loopback panel), the same with ``--panel-request-rate 1000`` explicitly, and ``-n 2`` (two
xdist workers, each with its own minted tenants). A run that cannot happen (pytest exit 2-5,
e.g. pytest-xdist missing) is PENDING, with why.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.figures import Figure, Target, Unit
from bench.panel import Secrets, mock_argv
from bench.procs import serve
from bench.settings import Settings

__all__ = ["TARGET", "SuiteRun", "run", "summary_line", "time_suite"]

TARGET = Target("<=", 30.0)
_SUMMARY = re.compile(r"\b(passed|failed|error|errors|skipped|deselected|no tests ran)\b")


@dataclass(frozen=True, slots=True)
class SuiteRun:
    seconds: float
    exit_code: int
    summary: str  # pytest's final line, or the error that stopped it


def summary_line(output: str) -> str:
    """The most telling line of pytest's output: its result line, else the last error line."""
    lines = [line.strip(" =") for line in output.splitlines() if line.strip(" =")]
    for line in reversed(lines):
        if _SUMMARY.search(line) and " in " in line:
            return line
    for line in reversed(lines):
        if "error" in line.lower():
            return line
    return lines[-1] if lines else "(no output)"


def time_suite(settings: Settings, extra: Sequence[str], *, pinned: bool) -> SuiteRun:
    """Serve a fresh mock and time one suite run against it with ``extra`` pytest arguments."""
    keys = Secrets.fresh()
    with serve(mock_argv(settings, keys)) as mock, tempfile.TemporaryDirectory() as empty:
        command = [
            *(settings.pinning.client() if pinned else settings.pinning.anywhere()),
            settings.python,
            "-m",
            "pytest",
            "--panel-url",
            mock.api_url,
            "--panel-control-url",
            mock.base_url + "/_mock",
            "--panel-max-spend",
            "5",
            *(arg for clause in settings.conformance_clauses for arg in ("--panel-clause", clause)),
            *extra,
        ]
        env = {"PANEL_KEY": keys.key, "PANEL_CONTROL_TOKEN": keys.token}
        started = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=empty,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        seconds = time.perf_counter() - started
    output = done.stdout + "\n" + done.stderr
    return SuiteRun(seconds, done.returncode, _redacted(summary_line(output), keys))


def _redacted(text: str, keys: Secrets) -> str:
    return text.replace(keys.key, "***").replace(keys.token, "***")


# id, name, extra pytest arguments, pytest pinned to the client core, target.
_RUNS: tuple[tuple[str, str, tuple[str, ...], bool, Target | None], ...] = (
    ("conformance.serial", "conformance suite, serial", (), True, TARGET),
    (
        "conformance.serial.fast",
        "conformance suite, serial, --panel-request-rate 1000",
        ("--panel-request-rate", "1000"),
        True,
        TARGET,
    ),
    # Two workers need both cores: pytest may use every core (the mock stays pinned).
    ("conformance.n2", "conformance suite, -n 2", ("-n", "2"), False, None),
)


def run(settings: Settings) -> list[Figure]:
    figures = []
    for figure_id, name, extra, pinned, target in _RUNS:
        suite = time_suite(settings, extra, pinned=pinned)
        ran = suite.exit_code in (0, 1)  # 1: the suite ran and some test failed
        figures.append(
            Figure(
                figure_id,
                name,
                suite.seconds if ran else None,
                Unit.SECONDS,
                target,
                f"{'' if ran else 'pending: '}pytest exit {suite.exit_code}: {suite.summary}",
            )
        )
    return figures
